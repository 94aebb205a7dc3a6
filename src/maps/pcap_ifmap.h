/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_ifmap.h: pcap_interfaces_map (pmacctd's interfaces, their ifindex and direction) and pcap_ifindex. */
#ifndef MAPS_PCAP_IFMAP_H
#define MAPS_PCAP_IFMAP_H

#include <stddef.h>
#include <stdint.h>

/* Interfaces a map may name (pmacct has no limit; one capture handle each). */
#define PCAP_IFMAP_MAX 64

/* An interface name's longest length, NUL included (IFNAMSIZ). */
#define PCAP_IFNAME_MAX 16

/* Capture direction: pcap_direction, a map row's direction=. */
enum pcap_dir {
	PCAP_DIR_NONE = 0,	/* both ways; neither in_iface nor out_iface is set */
	PCAP_DIR_IN,		/* packets received: the ifindex is in_iface */
	PCAP_DIR_OUT,		/* packets sent: the ifindex is out_iface */
};

/* pcap_ifindex: where an interface's ifindex comes from. */
enum pcap_ifindex_src {
	PCAP_IFINDEX_NONE = 0,	/* 0 (default) */
	PCAP_IFINDEX_SYS,	/* if_nametoindex() */
	PCAP_IFINDEX_HASH,	/* pcap_ifindex_hash() of the name */
	PCAP_IFINDEX_MAP,	/* the map row's ifindex= */
};

struct pcap_ifmap_row {
	char ifname[PCAP_IFNAME_MAX];
	uint32_t ifindex;	/* 0 when the row has none */
	enum pcap_dir dir;
};

struct pcap_ifmap {
	size_t n;
	struct pcap_ifmap_row row[PCAP_IFMAP_MAX];
};

/*
 * Load a pcap_interfaces_map: rows `ifname=<name> [ifindex=<n>]
 * [direction=in|out]` (pmacct's keys; `!` and `#` comments), ifindex a
 * positive 32-bit number.  Into *m.  Returns 0, or -1 with a message naming
 * file, line and key in err (a missing ifname, an unknown key, a bad value,
 * the same interface twice, more than PCAP_IFMAP_MAX rows, an empty map).
 */
int pcap_ifmap_load(const char *path, struct pcap_ifmap *m, char *err, size_t errlen);

/* The row of interface name in m, or NULL. */
const struct pcap_ifmap_row *pcap_ifmap_find(const struct pcap_ifmap *m, const char *name);

/*
 * pcap_ifindex "hash": pmacct's number for an interface name (Bob Jenkins'
 * 1996 hash, "lookup2", of the name's bytes with initial value 0).
 */
uint32_t pcap_ifindex_hash(const char *name);

/* "none", "sys", "hash", "map" (any case) to *out: 0, or -1 for anything else. */
int pcap_ifindex_parse(const char *s, enum pcap_ifindex_src *out);

/* "in", "out" (any case) to *out: 0, or -1 for anything else. */
int pcap_dir_parse(const char *s, enum pcap_dir *out);

#endif
