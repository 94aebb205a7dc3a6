/* SPDX-License-Identifier: BSD-3-Clause */
/* prim_value.h: a primitive's value from text, as the client (-M/-N) and the HTTP API filters read it. */
#ifndef MODEL_PRIM_VALUE_H
#define MODEL_PRIM_VALUE_H

#include <stdint.h>

#include "prim.h"

/*
 * Parse text as a value of primitive d into d's field of key k (the rest
 * of k is left alone), in the form the value is printed:
 *   PF_UINT        decimal, within the field's width ("443")
 *   PF_HEX         hex, "0x" optional ("86dd")
 *   PF_MAC         "00:11:22:33:44:55"
 *   PF_IP          an IPv4 or IPv6 address
 *   PF_PROTO       a number 0-255 or a name ("udp", any case)
 *   PF_TS          "seconds[.microseconds]"
 *   PF_STR         text shorter than the field
 *   PF_CLASS       the same; "unknown" is the empty class
 *   PF_RD          "type:admin:assigned", or "vrfid:<n>" (a VRF without an RD)
 *   PF_RD_ORIGIN   "unknown", "flow", "bgp", "bmp" or "map"
 *   PF_FWD_STATUS  decimal 0-255
 *   PF_MPLS_STACK  labels joined by '_' ("16_17"; "" = no stack)
 *   PF_COMMS       communities joined by '_' or ' ' ("65000:1_65000:2"); "0" or "" = none
 *   PF_ASPATH      ASNs joined by '_' or ' ' ("65001_65002"); "^$" or "" = empty path
 *                  (both stored with ' ', shorter than the field)
 *   PF_SAMP_DIR    "u", "i" or "e"
 * Leading blanks before a number are skipped, as strtoull does; nothing
 * may follow a value.  Returns 0, or -1 when text is not a value of d or
 * d's values cannot be matched (raw custom primitives, SRv6 lists, none).
 */
int prim_value_parse(const struct prim_desc *d, const char *text, struct flow_key *k);

/*
 * What a value of d is, for messages about one that did not parse ("MAC
 * address", "IP address", "number" ...).  A static string.
 */
const char *prim_value_kind(const struct prim_desc *d);

/*
 * Parse a route distinguisher "0:<as>:<n>", "1:<ipv4>:<n>" or
 * "2:<as4>:<n>" into its 8 wire bytes (RFC 4364 4.2).  0, or -1 when it is
 * not one (rd is then undefined).
 */
int prim_value_parse_rd(const char *s, uint8_t rd[8]);

/* The name of an FR_RD_ORIGIN_* value ("flow", "map" ...); "unknown" for any other. */
const char *prim_value_rd_origin_text(uint8_t origin);

#endif
