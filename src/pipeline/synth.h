/* SPDX-License-Identifier: BSD-3-Clause */
/* synth.h: a small Ethernet/IP/L4 frame built from a record, so BPF filters apply to NetFlow and sFlow records. */
#ifndef PIPELINE_SYNTH_H
#define PIPELINE_SYNTH_H

#include <pcap/pcap.h>
#include <stddef.h>
#include <stdint.h>

#include "model/flow_rec.h"

/* Enough for Ethernet + 802.1Q + IPv6 + TCP. */
#define SYNTH_MAX 96

/*
 * Write into buf a DLT_EN10MB frame carrying the record's MACs, VLAN (as
 * an 802.1Q tag, with its CoS), addresses, protocol, ToS and ports (TCP
 * with its flags, UDP, else none), and fill *h for pcap_offline_filter().
 * IP lengths are the record's bytes clamped to the header sizes, so
 * `less`/`greater` see a plausible size.  Returns the frame length.
 */
size_t synth_frame(const struct flow_rec *rec, uint8_t buf[SYNTH_MAX], struct pcap_pkthdr *h);

#endif
