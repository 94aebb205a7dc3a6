/* SPDX-License-Identifier: BSD-3-Clause */
/* bpf.h: compile a BPF filter as pmacct's users wrote it, host bits in `net` prefixes included. */
#ifndef LIB_BPF_H
#define LIB_BPF_H

#include <pcap/pcap.h>
#include <stddef.h>

/*
 * Copy `text` into out[len], with the host bits of every IPv4 prefix
 * written `a.b.c.d/len` cleared (`192.168.1.0/19` -> `192.168.0.0/19`).
 * Returns the number of prefixes changed.
 */
int bpf_mask_prefixes(const char *text, char *out, size_t len);

/*
 * pcap_compile() `text` for `pc`.  libpcap refuses a prefix with host bits
 * set ("non-network bits set"), which libpcap of pmacct 0.11's time
 * accepted and which configs of that era contain (the seed's
 * `dst net 192.168.1.0/19`): such a filter is compiled with the host bits
 * cleared and a warning naming `where` (file:line) and `key`.  Returns 0,
 * or -1 with libpcap's message in pcap_geterr(pc).
 */
int bpf_compile(pcap_t *pc, struct bpf_program *prog, const char *text, const char *who,
    const char *where, const char *key);

#endif
