/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_map.h: classic pcap capture files read in place from a memory map (no copies, no read()). */
#ifndef PIPELINE_PCAP_MAP_H
#define PIPELINE_PCAP_MAP_H

#include <pcap/pcap.h>
#include <stdint.h>

struct pcap_map;

/*
 * Map `path` if it is a classic pcap file (either byte order, micro- or
 * nanosecond timestamps) of a link type the packet decoder reads.  NULL
 * otherwise (pcapng, other link types, unreadable): read it with libpcap.
 */
struct pcap_map *pcap_map_open(const char *path);

/* The file's link type (the DLT_* value, as pcap_datalink() gives it). */
int pcap_map_linktype(const struct pcap_map *m);

/*
 * The next record: its header in *h and its bytes in *pkt (valid until
 * pcap_map_close).  Returns 1, 0 at the end of the file, or -1 when the
 * file is truncated or a record header is corrupt (*why says which).
 */
int pcap_map_next(struct pcap_map *m, struct pcap_pkthdr *h, const uint8_t **pkt,
    const char **why);

/* Bytes read so far and the file's size (the progress line). */
void pcap_map_progress(const struct pcap_map *m, uint64_t *done, uint64_t *total);

/* Back to the first record (pcap_savefile_replay). */
void pcap_map_rewind(struct pcap_map *m);

void pcap_map_close(struct pcap_map *m);

#endif
