/* SPDX-License-Identifier: BSD-3-Clause */
/* savefile.h: classic pcap capture files (-I) read through one small reused window. */
#ifndef PIPELINE_SAVEFILE_H
#define PIPELINE_SAVEFILE_H

#include <pcap/pcap.h>
#include <stdint.h>

struct savefile;

/*
 * Open `path` if it is a classic pcap file (either byte order, micro- or
 * nanosecond timestamps) of a link type the packet decoder reads.  NULL
 * otherwise (pcapng, other link types, unreadable): read it with libpcap.
 */
struct savefile *savefile_open(const char *path);

/* The file's link type (the DLT_* value, as pcap_datalink() gives it). */
int savefile_linktype(const struct savefile *m);

/*
 * The next record: its header in *h and its bytes in *pkt (valid until
 * the next call).  Returns 1, 0 at the end of the file, or -1 when the
 * file is truncated or a record header is corrupt (*why says which).
 */
int savefile_next(struct savefile *m, struct pcap_pkthdr *h, const uint8_t **pkt,
    const char **why);

/* Bytes read so far and the file's size (the progress line). */
void savefile_progress(const struct savefile *m, uint64_t *done, uint64_t *total);

/* Back to the first record (pcap_savefile_replay). */
void savefile_rewind(struct savefile *m);

void savefile_close(struct savefile *m);

#endif
