/* SPDX-License-Identifier: BSD-3-Clause */
/* prim.c: the primitives table and the operations every plugin, the client and the config share. */
#include "prim.h"
#include "prim_registry.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "lib/text.h"

#define KF(f)	offsetof(struct flow_key, f), sizeof(((struct flow_key *)0)->f)
#define NOKEY	0, 0

/*
 * One row per primitive, in pmacct's fixed output column order (the order
 * of enum prim_id).  Titles, widths and JSON keys are pmacct 1.7's.
 */
/* An undefined custom slot: hidden, no key bytes, until a registry names it (prim_custom_define()). */
#define CUSTOM_SLOT(n) [P_CUSTOM_0 + (n)] = { "", "MISC", "Custom primitive (aggregate_primitives)", \
		offsetof(struct flow_key, custom), 0, PF_NONE, "", 0, "", SRC_NF, \
		PRIM_HIDDEN | PRIM_CUSTOM, P_CUSTOM_0 + (n) }

/* A BGP text primitive (as_path, communities): refused by formatted print, as 1.7.7's. */
#define BGP_TEXT(id, name, descr, field, fmt, title, json, cjson) [id] = { name, "BGP", descr, \
		KF(field), fmt, title, 25, json, SRC_ALL, 0, id, 22, 3, cjson, PRIM_NO_FORMATTED }
/* local_pref, med and their src_* twins: "%-<width-2>u  " */
#define BGP_UINT(id, name, descr, field, title, width, json, cjson) [id] = { name, "BGP", descr, \
		KF(field), PF_UINT, title, width, json, SRC_ALL, 0, id, (width) - 2, 2, cjson, 0 }

const struct prim_desc prim_builtin[P_COUNT] = {
	[P_TAG] = { "tag", "MISC", "Numeric tag, ie. as result of pre_tag_map evaluation",
		KF(tag), PF_UINT, "TAG", 12, "tag", SRC_ALL, 0, P_TAG },
	[P_TAG2] = { "tag2", "MISC", "Numeric tag, ie. as result of pre_tag_map evaluation",
		KF(tag2), PF_UINT, "TAG2", 12, "tag2", SRC_ALL, 0, P_TAG2 },
	[P_CLASS] = { "class", "MISC", "L7 protocol classification",
		KF(class_name), PF_CLASS, "CLASS", 18, "class", SRC_ALL, 0, P_CLASS, 16, 2 },
	[P_LABEL] = { "label", "MISC", "String label, ie. as result of pre_tag_map evaluation",
		KF(label), PF_STR, "LABEL", 0, "label", SRC_ALL, PRIM_VLEN, P_LABEL },
	[P_SRC_MAC] = { "src_mac", "L2", "Source MAC address",
		KF(src_mac), PF_MAC, "SRC_MAC", 19, "mac_src", SRC_ALL, 0, P_SRC_MAC },
	[P_DST_MAC] = { "dst_mac", "L2", "Destination MAC address",
		KF(dst_mac), PF_MAC, "DST_MAC", 19, "mac_dst", SRC_ALL, 0, P_DST_MAC },
	[P_VLAN] = { "vlan", "L2", "Ethernet VLAN, 802.1Q",
		KF(vlan), PF_UINT, "VLAN", 7, "vlan", SRC_ALL, 0, P_VLAN },
	[P_IN_VLAN] = { "in_vlan", "L2", "Input Ethernet VLAN, 802.1Q",
		KF(in_vlan), PF_UINT, "IN_VLAN", 9, "vlan_in", SRC_NF | SRC_SF, 0, P_IN_VLAN },
	[P_OUT_VLAN] = { "out_vlan", "L2", "Output Ethernet VLAN, 802.1Q",
		KF(out_vlan), PF_UINT, "OUT_VLAN", 10, "vlan_out", SRC_NF | SRC_SF, 0, P_OUT_VLAN },
	[P_IN_CVLAN] = { "in_cvlan", "L2", "Input Customer Ethernet VLAN",
		KF(in_cvlan), PF_UINT, "IN_CVLAN", 10, "cvlan_in", SRC_NF, 0, P_IN_CVLAN },
	[P_OUT_CVLAN] = { "out_cvlan", "L2", "Output Customer Ethernet VLAN",
		KF(out_cvlan), PF_UINT, "OUT_CVLAN", 11, "cvlan_out", SRC_NF, 0, P_OUT_CVLAN },
	[P_COS] = { "cos", "L2", "Ethernet CoS, 802.1P",
		KF(cos), PF_UINT, "COS", 4, "cos", SRC_ALL, 0, P_COS },
	[P_ETYPE] = { "etype", "L2", "Ethernet Ethertype",
		KF(etype), PF_HEX, "ETYPE", 7, "etype", SRC_ALL, 0, P_ETYPE },
	[P_SRC_AS] = { "src_as", "BGP", "Source ASN",
		KF(src_as), PF_UINT, "SRC_AS", 12, "as_src", SRC_ALL, PRIM_NEEDS_AS, P_SRC_AS },
	[P_DST_AS] = { "dst_as", "BGP", "Destination ASN",
		KF(dst_as), PF_UINT, "DST_AS", 12, "as_dst", SRC_ALL, PRIM_NEEDS_AS, P_DST_AS },
	/*
	 * BGP attributes: titles, keys and formatted layout as pmacct 1.7.7
	 * prints them (values "%-22s   " under 25-wide titles, "%-7u  " under PREF).
	 */
	BGP_TEXT(P_STD_COMM, "std_comm", "Standard Communities", std_comm, PF_COMMS, "COMMS", "comms", NULL),
	BGP_TEXT(P_EXT_COMM, "ext_comm", "Extended Communities", ext_comm, PF_COMMS, "ECOMMS", "ecomms", NULL),
	BGP_TEXT(P_LRG_COMM, "lrg_comm", "Large Communities", lrg_comm, PF_COMMS, "LCOMMS", "lcomms", NULL),
	BGP_TEXT(P_SRC_STD_COMM, "src_std_comm", "Source Standard Communities (via reverse BGP lookup)",
		src_std_comm, PF_COMMS, "SRC_COMMS", "comms_src", "src_comms"),
	BGP_TEXT(P_SRC_EXT_COMM, "src_ext_comm", "Source Extended Communities (via reverse BGP lookup)",
		src_ext_comm, PF_COMMS, "SRC_ECOMMS", "ecomms_src", "src_ecomms"),
	BGP_TEXT(P_SRC_LRG_COMM, "src_lrg_comm", "Source Large Communities (via reverse BGP lookup)",
		src_lrg_comm, PF_COMMS, "SRC_LCOMMS", "lcomms_src", "src_lcomms"),
	BGP_TEXT(P_AS_PATH, "as_path", "AS PATH", as_path, PF_ASPATH, "AS_PATH", "as_path", NULL),
	BGP_TEXT(P_SRC_AS_PATH, "src_as_path", "Source AS PATH (via reverse BGP lookup)",
		src_as_path, PF_ASPATH, "SRC_AS_PATH", "as_path_src", "src_as_path"),
	BGP_UINT(P_LOCAL_PREF, "local_pref", "Local Preference", local_pref, "PREF", 9, "local_pref", NULL),
	BGP_UINT(P_SRC_LOCAL_PREF, "src_local_pref", "Source Local Preference (by default via reverse BGP lookup)",
		src_local_pref, "SRC_PREF", 9, "local_pref_src", "src_local_pref"),
	BGP_UINT(P_MED, "med", "Multi-Exit Discriminator", med, "MED", 8, "med", NULL),
	BGP_UINT(P_SRC_MED, "src_med", "Source MED (by default via reverse BGP lookup)",
		src_med, "SRC_MED", 8, "med_src", "src_med"),
	[P_SRC_ROA] = { "src_roa", "MISC", "RPKI validation status for source IP prefix",
		KF(src_roa), PF_ROA, "SRC_ROA", 8, "roa_src", SRC_ALL, 0, P_SRC_ROA },
	[P_DST_ROA] = { "dst_roa", "MISC", "RPKI validation status for destination IP prefix",
		KF(dst_roa), PF_ROA, "DST_ROA", 8, "roa_dst", SRC_ALL, 0, P_DST_ROA },
	[P_PEER_SRC_AS] = { "peer_src_as", "BGP", "Source peer ASN (by default via reverse BGP lookup)",
		KF(peer_src_as), PF_UINT, "PEER_SRC_AS", 12, "peer_as_src", SRC_ALL, 0, P_PEER_SRC_AS },
	[P_PEER_DST_AS] = { "peer_dst_as", "BGP", "Destination peer ASN",
		KF(peer_dst_as), PF_UINT, "PEER_DST_AS", 12, "peer_as_dst", SRC_ALL, 0, P_PEER_DST_AS },
	[P_PEER_SRC_IP] = { "peer_src_ip", "MISC", "IP address or identificator of telemetry exporting device",
		KF(peer_src_ip), PF_IP, "PEER_SRC_IP", 47, "peer_ip_src", SRC_NF | SRC_SF, 0, P_PEER_SRC_IP },
	[P_PEER_DST_IP] = { "peer_dst_ip", "BGP", "BGP next-hop",
		KF(peer_dst_ip), PF_IP, "PEER_DST_IP", 47, "peer_ip_dst", SRC_ALL, 0, P_PEER_DST_IP },
	[P_IN_IFACE] = { "in_iface", "MISC", "Input interface, SNMP ifIndex",
		KF(in_iface), PF_UINT, "IN_IFACE", 12, "iface_in", SRC_ALL, 0, P_IN_IFACE, 0, 0, NULL,
		PRIM_LIST_NO_PM },
	[P_OUT_IFACE] = { "out_iface", "MISC", "Output interface, SNMP ifIndex",
		KF(out_iface), PF_UINT, "OUT_IFACE", 12, "iface_out", SRC_ALL, 0, P_OUT_IFACE, 0, 0, NULL,
		PRIM_LIST_NO_PM },
	[P_IN_IFACE_NAME] = { "in_iface_name", "MISC", "Input interface name (NetFlow/IPFIX options, IE 82)",
		KF(in_iface_name), PF_STR, "IN_IFACE_NAME", 33, "iface_name_in", SRC_NF, 0, P_IN_IFACE_NAME },
	[P_OUT_IFACE_NAME] = { "out_iface_name", "MISC", "Output interface name (NetFlow/IPFIX options, IE 82)",
		KF(out_iface_name), PF_STR, "OUT_IFACE_NAME", 33, "iface_name_out", SRC_NF, 0, P_OUT_IFACE_NAME },
	[P_MPLS_VPN_RD] = { "mpls_vpn_rd", "MPLS", "MPLS L3 VPN Route Distinguisher",
		KF(mpls_vpn_rd), PF_RD, "MPLS_VPN_RD", 20, "mpls_vpn_rd", SRC_NF | SRC_SF, 0, P_MPLS_VPN_RD },
	[P_MPLS_VPN_RD_ORIGIN] = { "mpls_vpn_rd_origin", "MPLS",
		"Where mpls_vpn_rd came from: flow, map, bgp, bmp, unknown",
		KF(mpls_vpn_rd_origin), PF_RD_ORIGIN, "MPLS_VPN_RD_ORIGIN", 20, "mpls_vpn_rd_origin",
		SRC_NF, 0, P_MPLS_VPN_RD_ORIGIN },
	[P_MPLS_PW_ID] = { "mpls_pw_id", "MPLS", "MPLS L2 VPN Pseudowire ID",
		KF(mpls_pw_id), PF_UINT, "MPLS_PW_ID", 12, "mpls_pw_id", SRC_NF | SRC_SF, 0, P_MPLS_PW_ID },
	[P_VRF_NAME] = { "vrf_name", "MISC", "VRF name: ingress, else egress (NetFlow/IPFIX options, IE 236)",
		KF(vrf_name), PF_STR, "VRF_NAME", 33, "vrf_name", SRC_NF, 0, P_VRF_NAME },
	[P_INGRESS_VRF_NAME] = { "ingress_vrf_name", "MISC", "Ingress VRF name (NetFlow/IPFIX options, IE 234/236)",
		KF(ingress_vrf_name), PF_STR, "INGRESS_VRF_NAME", 33, "ingress_vrf_name", SRC_NF, 0, P_INGRESS_VRF_NAME },
	[P_EGRESS_VRF_NAME] = { "egress_vrf_name", "MISC", "Egress VRF name (NetFlow/IPFIX options, IE 235/236)",
		KF(egress_vrf_name), PF_STR, "EGRESS_VRF_NAME", 33, "egress_vrf_name", SRC_NF, 0, P_EGRESS_VRF_NAME },
	[P_SRC_HOST] = { "src_host", "L3", "Source IPv4/IPv6 address",
		KF(src_ip), PF_IP, "SRC_IP", 47, "ip_src", SRC_ALL, 0, P_SRC_HOST },
	[P_SRC_NET] = { "src_net", "L3", "Source IPv4/IPv6 prefix",
		KF(src_net), PF_IP, "SRC_NET", 47, "net_src", SRC_ALL, PRIM_NEEDS_NET, P_SRC_NET },
	[P_DST_HOST] = { "dst_host", "L3", "Destination IPv4/IPv6 address",
		KF(dst_ip), PF_IP, "DST_IP", 47, "ip_dst", SRC_ALL, 0, P_DST_HOST },
	[P_DST_NET] = { "dst_net", "L3", "Destination IPv4/IPv6 prefix",
		KF(dst_net), PF_IP, "DST_NET", 47, "net_dst", SRC_ALL, PRIM_NEEDS_NET, P_DST_NET },
	[P_SRC_MASK] = { "src_mask", "L3", "Source network mask",
		KF(src_mask), PF_UINT, "SRC_MASK", 10, "mask_src", SRC_ALL, PRIM_NEEDS_NET, P_SRC_MASK },
	[P_DST_MASK] = { "dst_mask", "L3", "Destination network mask",
		KF(dst_mask), PF_UINT, "DST_MASK", 10, "mask_dst", SRC_ALL, PRIM_NEEDS_NET, P_DST_MASK },
	[P_SRC_PORT] = { "src_port", "L4", "Source TCP/UDP port",
		KF(src_port), PF_UINT, "SRC_PORT", 10, "port_src", SRC_ALL, PRIM_L4, P_SRC_PORT },
	[P_DST_PORT] = { "dst_port", "L4", "Destination TCP/UDP port",
		KF(dst_port), PF_UINT, "DST_PORT", 10, "port_dst", SRC_ALL, PRIM_L4, P_DST_PORT },
	[P_TCPFLAGS] = { "tcpflags", "L4", "TCP flags",
		NOKEY, PF_TCPFLAGS, "TCP_FLAGS", 11, "tcp_flags", SRC_ALL, PRIM_L4, P_TCPFLAGS },
	[P_FWD_STATUS] = { "fwd_status", "MISC", "Forwarding status (RFC 7270)",
		KF(fwd_status), PF_FWD_STATUS, "FWD_STATUS", 11, "fwd_status", SRC_NF, 0, P_FWD_STATUS },
	[P_MPLS_LABEL_STACK] = { "mpls_label_stack", "MPLS", "MPLS label stack",
		KF(mpls_label_stack), PF_MPLS_STACK, "MPLS_LABEL_STACK", 0, "mpls_label_stack", SRC_NF,
		PRIM_VLEN, P_MPLS_LABEL_STACK },
	[P_SRV6_SEG_IPV6_LIST] = { "srv6_seg_ipv6_list", "MISC", "SRv6 segment list (IE 505 srhSegmentIPv6ListSection)",
		KF(srv6_seg_ipv6_list), PF_SRV6_LIST, "SRV6_SEG_IPV6_LIST", 0, "srv6_seg_ipv6_list", SRC_NF,
		PRIM_VLEN | PRIM_JSON_ONLY | PRIM_HIDDEN, P_SRV6_SEG_IPV6_LIST },
	/* tunnels (pmacct 1.7.7's TUNNEL group): the inner headers of a packet's first tunnel */
	[P_TUNNEL_SRC_MAC] = { "tunnel_src_mac", "TUNNEL", "Tunnel inner Source MAC address",
		KF(tunnel_src_mac), PF_MAC, "TUNNEL_SRC_MAC", 19, "tunnel_mac_src", SRC_PM | SRC_SF, 0,
		P_TUNNEL_SRC_MAC },
	[P_TUNNEL_DST_MAC] = { "tunnel_dst_mac", "TUNNEL", "Tunnel inner Destination MAC address",
		KF(tunnel_dst_mac), PF_MAC, "TUNNEL_DST_MAC", 19, "tunnel_mac_dst", SRC_PM | SRC_SF, 0,
		P_TUNNEL_DST_MAC },
	[P_TUNNEL_SRC_HOST] = { "tunnel_src_host", "TUNNEL", "Tunnel inner Source IPv4/IPv6 address",
		KF(tunnel_src_ip), PF_IP, "TUNNEL_SRC_IP", 47, "tunnel_ip_src", SRC_PM | SRC_SF, 0,
		P_TUNNEL_SRC_HOST },
	[P_TUNNEL_DST_HOST] = { "tunnel_dst_host", "TUNNEL", "Tunnel inner Destination IPv4/IPv6 address",
		KF(tunnel_dst_ip), PF_IP, "TUNNEL_DST_IP", 47, "tunnel_ip_dst", SRC_PM | SRC_SF, 0,
		P_TUNNEL_DST_HOST },
	[P_TUNNEL_PROTO] = { "tunnel_proto", "TUNNEL", "Tunnel inner IP protocol",
		KF(tunnel_proto), PF_PROTO, "TUNNEL_PROTOCOL", 17, "tunnel_ip_proto", SRC_PM | SRC_SF, 0,
		P_TUNNEL_PROTO },
	[P_TUNNEL_TOS] = { "tunnel_tos", "TUNNEL", "Tunnel inner IP ToS",
		KF(tunnel_tos), PF_UINT, "TUNNEL_TOS", 12, "tunnel_tos", SRC_PM | SRC_SF, 0, P_TUNNEL_TOS },
	[P_TUNNEL_SRC_PORT] = { "tunnel_src_port", "TUNNEL", "Tunnel inner Source TCP/UDP port",
		KF(tunnel_src_port), PF_UINT, "TUNNEL_SRC_PORT", 17, "tunnel_port_src", SRC_PM | SRC_SF, 0,
		P_TUNNEL_SRC_PORT },
	[P_TUNNEL_DST_PORT] = { "tunnel_dst_port", "TUNNEL", "Tunnel inner Destination TCP/UDP port",
		KF(tunnel_dst_port), PF_UINT, "TUNNEL_DST_PORT", 17, "tunnel_port_dst", SRC_PM | SRC_SF, 0,
		P_TUNNEL_DST_PORT },
	[P_VXLAN] = { "vxlan", "TUNNEL", "VXLAN Network Identifier",
		KF(vxlan), PF_UINT, "VXLAN", 10, "vxlan", SRC_ALL, 0, P_VXLAN },
	[P_PROTO] = { "proto", "L3", "IP protocol",
		KF(proto), PF_PROTO, "PROTOCOL", 12, "ip_proto", SRC_ALL, 0, P_PROTO },
	[P_TOS] = { "tos", "L3", "IP ToS",
		KF(tos), PF_UINT, "TOS", 7, "tos", SRC_ALL, 0, P_TOS },
	[P_FLOW_LABEL] = { "flow_label", "MISC", "IPv6 flow label",
		KF(flow_label), PF_UINT, "FLOW_LABEL", 11, "flow_label", SRC_NF, 0, P_FLOW_LABEL },
	[P_SAMPLING_RATE] = { "sampling_rate", "MISC", "Sampling rate",
		KF(sampling_rate), PF_UINT, "SAMPLING_RATE", 14, "sampling_rate", SRC_ALL, 0, P_SAMPLING_RATE },
	[P_SAMPLING_DIRECTION] = { "sampling_direction", "MISC", "Sampling direction (ie. ingress vs egress)",
		KF(sampling_direction), PF_SAMP_DIR, "SAMPLING_DIRECTION", 19, "sampling_direction", SRC_NF | SRC_SF, 0,
		P_SAMPLING_DIRECTION, 19, 1 },
	[P_POST_NAT_SRC_HOST] = { "post_nat_src_host", "NAT", "Source IPv4/IPv6 address after NAT translation",
		KF(post_nat_src_ip), PF_IP, "POST_NAT_SRC_IP", 47, "post_nat_ip_src", SRC_NF, 0, P_POST_NAT_SRC_HOST },
	[P_POST_NAT_DST_HOST] = { "post_nat_dst_host", "NAT", "Destination IPv4/IPv6 address after NAT translation",
		KF(post_nat_dst_ip), PF_IP, "POST_NAT_DST_IP", 47, "post_nat_ip_dst", SRC_NF, 0, P_POST_NAT_DST_HOST },
	[P_POST_NAT_SRC_PORT] = { "post_nat_src_port", "NAT", "Source TCP/UDP port after NAT translation",
		KF(post_nat_src_port), PF_UINT, "POST_NAT_SRC_PORT", 19, "post_nat_port_src", SRC_NF, 0, P_POST_NAT_SRC_PORT },
	[P_POST_NAT_DST_PORT] = { "post_nat_dst_port", "NAT", "Destination TCP/UDP port after NAT translation",
		KF(post_nat_dst_port), PF_UINT, "POST_NAT_DST_PORT", 19, "post_nat_port_dst", SRC_NF, 0, P_POST_NAT_DST_PORT },
	[P_NAT_EVENT] = { "nat_event", "NAT", "NAT event ID",
		KF(nat_event), PF_UINT, "NAT_EVENT", 10, "nat_event", SRC_NF, 0, P_NAT_EVENT },
	[P_FW_EVENT] = { "fw_event", "NAT", "Firewall event ID",
		KF(fw_event), PF_UINT, "FW_EVENT", 9, "fw_event", SRC_NF, 0, P_FW_EVENT },
	[P_MPLS_LABEL_TOP] = { "mpls_label_top", "MPLS", "Top MPLS label",
		KF(mpls_label_top), PF_UINT, "MPLS_LABEL_TOP", 16, "mpls_label_top", SRC_PM | SRC_NF, 0, P_MPLS_LABEL_TOP },
	[P_MPLS_LABEL_BOTTOM] = { "mpls_label_bottom", "MPLS", "Bottom MPLS label",
		KF(mpls_label_bottom), PF_UINT, "MPLS_LABEL_BOTTOM", 19, "mpls_label_bottom", SRC_PM | SRC_NF, 0, P_MPLS_LABEL_BOTTOM },
	[P_MPLS_STACK_DEPTH] = { "mpls_stack_depth", "MPLS", "MPLS stack depth",
		KF(mpls_stack_depth), PF_UINT, "MPLS_STACK_DEPTH", 18, "mpls_stack_depth", SRC_PM | SRC_NF, 0, P_MPLS_STACK_DEPTH },
	[P_TS_START] = { "timestamp_start", "TIME", "Flow start time or observation time at the exporter",
		KF(ts_start), PF_TS, "TIMESTAMP_START", 31, "timestamp_start", SRC_NF, 0, P_TS_START },
	[P_TS_END] = { "timestamp_end", "TIME", "Flow end time",
		KF(ts_end), PF_TS, "TIMESTAMP_END", 31, "timestamp_end", SRC_NF, 0, P_TS_END },
	[P_TS_ARRIVAL] = { "timestamp_arrival", "TIME", "Observation time at the collector",
		KF(ts_arrival), PF_TS, "TIMESTAMP_ARRIVAL", 31, "timestamp_arrival", SRC_ALL, 0, P_TS_ARRIVAL },
	[P_TS_EXPORT] = { "timestamp_export", "TIME", "Observation time at the exporter",
		KF(ts_export), PF_TS, "TIMESTAMP_EXPORT", 31, "timestamp_export", SRC_NF, 0, P_TS_EXPORT },
	[P_EXPORT_PROTO_SEQNO] = { "export_proto_seqno", "MISC", "Export protocol (ie. NetFlow) sequence number",
		KF(export_proto_seqno), PF_UINT, "EXPORT_PROTO_SEQNO", 20, "export_proto_seqno", SRC_NF | SRC_SF, 0, P_EXPORT_PROTO_SEQNO },
	[P_EXPORT_PROTO_VERSION] = { "export_proto_version", "MISC", "Export protocol (ie. NetFlow) version",
		KF(export_proto_version), PF_UINT, "EXPORT_PROTO_VERSION", 22, "export_proto_version", SRC_NF | SRC_SF, 0, P_EXPORT_PROTO_VERSION },
	[P_EXPORT_PROTO_SYSID] = { "export_proto_sysid", "MISC", "Export protocol ID (ie. sFlow subAgentID, IPFIX Obs Domain ID)",
		KF(export_proto_sysid), PF_UINT, "EXPORT_PROTO_SYSID", 20, "export_proto_sysid", SRC_NF | SRC_SF, 0, P_EXPORT_PROTO_SYSID },
	[P_PATH_DELAY_AVG_USEC] = { "path_delay_avg_usec", "TIME", "Average On-Path Telemetry measured delay (usec)",
		KF(path_delay_avg_usec), PF_UINT, "PATH_DELAY_AVG_USEC", 21, "path_delay_avg_usec", SRC_NF, 0, P_PATH_DELAY_AVG_USEC },
	[P_PATH_DELAY_MIN_USEC] = { "path_delay_min_usec", "TIME", "Minimum On-Path Telemetry measured delay (usec)",
		KF(path_delay_min_usec), PF_UINT, "PATH_DELAY_MIN_USEC", 21, "path_delay_min_usec", SRC_NF, 0, P_PATH_DELAY_MIN_USEC },
	[P_PATH_DELAY_MAX_USEC] = { "path_delay_max_usec", "TIME", "Maximum On-Path Telemetry measured delay (usec)",
		KF(path_delay_max_usec), PF_UINT, "PATH_DELAY_MAX_USEC", 21, "path_delay_max_usec", SRC_NF, 0, P_PATH_DELAY_MAX_USEC },
	/* GeoIP v2: titles, widths and JSON keys as pmacct 1.7.7 (--enable-geoipv2) prints them */
	[P_SRC_HOST_COUNTRY] = { "src_host_country", "MISC", "Source IP address GeoIP resolution: country",
		KF(src_host_country), PF_STR, "SH_COUNTRY", 12, "country_ip_src", SRC_ALL, 0, P_SRC_HOST_COUNTRY },
	[P_DST_HOST_COUNTRY] = { "dst_host_country", "MISC", "Destination IP address GeoIP resolution: country",
		KF(dst_host_country), PF_STR, "DH_COUNTRY", 12, "country_ip_dst", SRC_ALL, 0, P_DST_HOST_COUNTRY },
	[P_SRC_HOST_POCODE] = { "src_host_pocode", "MISC", "Source IP address GeoIP resolution: postal code",
		KF(src_host_pocode), PF_STR, "SH_POCODE", 14, "pocode_ip_src", SRC_ALL, 0, P_SRC_HOST_POCODE },
	[P_DST_HOST_POCODE] = { "dst_host_pocode", "MISC", "Destination IP address GeoIP resolution: postal code",
		KF(dst_host_pocode), PF_STR, "DH_POCODE", 14, "pocode_ip_dst", SRC_ALL, 0, P_DST_HOST_POCODE },
	/* two columns each: the titles and keys of the latitude here, the longitude's in output.c */
	[P_SRC_HOST_COORDS] = { "src_host_coords", "MISC", "Source IP address GeoIP resolution: lat/lon coordinates",
		KF(src_host_coords), PF_COORDS, "SH_LAT", 14, "lat_ip_src", SRC_ALL, 0, P_SRC_HOST_COORDS },
	[P_DST_HOST_COORDS] = { "dst_host_coords", "MISC", "Destination IP address GeoIP resolution: lat/lon coordinates",
		KF(dst_host_coords), PF_COORDS, "DH_LAT", 14, "lat_ip_dst", SRC_ALL, 0, P_DST_HOST_COORDS },
	CUSTOM_SLOT(0), CUSTOM_SLOT(1), CUSTOM_SLOT(2), CUSTOM_SLOT(3),
	CUSTOM_SLOT(4), CUSTOM_SLOT(5), CUSTOM_SLOT(6), CUSTOM_SLOT(7),
	CUSTOM_SLOT(8), CUSTOM_SLOT(9), CUSTOM_SLOT(10), CUSTOM_SLOT(11),
	CUSTOM_SLOT(12), CUSTOM_SLOT(13), CUSTOM_SLOT(14), CUSTOM_SLOT(15),
	[P_SUM_HOST] = { "sum_host", "L3", "Sum of traffic per host (in + out)",
		KF(src_ip), PF_IP, "SRC_IP", 47, "ip_src", SRC_ALL, PRIM_SUM | PRIM_HIDDEN, P_SRC_HOST },
	[P_SUM_NET] = { "sum_net", "L3", "Sum of traffic per network (in + out)",
		KF(src_net), PF_IP, "SRC_NET", 47, "net_src", SRC_ALL, PRIM_SUM | PRIM_NEEDS_NET | PRIM_HIDDEN, P_SRC_NET },
	[P_SUM_AS] = { "sum_as", "BGP", "Sum of traffic per ASN (in + out)",
		KF(src_as), PF_UINT, "SRC_AS", 12, "as_src", SRC_ALL, PRIM_SUM | PRIM_NEEDS_AS | PRIM_HIDDEN, P_SRC_AS },
	[P_SUM_PORT] = { "sum_port", "L4", "Sum of traffic per port (in + out)",
		KF(src_port), PF_UINT, "SRC_PORT", 10, "port_src", SRC_ALL, PRIM_SUM | PRIM_L4 | PRIM_HIDDEN, P_SRC_PORT },
	[P_SUM_MAC] = { "sum_mac", "L2", "Sum of traffic per MAC (in + out)",
		KF(src_mac), PF_MAC, "SRC_MAC", 19, "mac_src", SRC_ALL, PRIM_SUM | PRIM_HIDDEN, P_SRC_MAC },
	[P_NONE] = { "none", "MISC", "No primitive: one grand-total row",
		NOKEY, PF_NONE, NULL, 0, NULL, SRC_ALL, PRIM_HIDDEN, P_NONE },
	[P_FLOWS] = { "flows", "MISC", "IP flows",
		NOKEY, PF_NONE, "FLOWS", 22, "flows", SRC_ALL, 0, P_FLOWS, 0, 0, NULL, PRIM_LIST_NF },
};

struct prim_registry *prim_registry_new(void)
{
	struct prim_registry *reg = xcalloc(1, sizeof(*reg));

	prim_custom_clear(reg);
	return reg;
}

void prim_registry_free(struct prim_registry *reg)
{
	free(reg);
}

const struct prim_desc *prim_custom_desc(const struct prim_registry *reg, int id)
{
	return &reg->custom[id - P_CUSTOM_0];
}

int prim_lookup(const struct prim_registry *reg, const char *name)
{
	for (int i = 0; i < P_COUNT; i++) {
		const char *n = prim_desc_of(reg, i)->name;
		if (n[0] && strcasecmp(n, name) == 0)
			return i;
	}
	return -1;
}

int prim_parse_list(const struct prim_registry *reg, const char *list, struct prim_set *out,
    char *bad, size_t badlen)
{
	char word[PRIM_WORD_MAX];
	struct prim_set s = { 0 };
	const char *p = list;

	while (*p) {
		size_t n = 0;
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		while (p[n] && p[n] != ',' && !isspace((unsigned char)p[n]))
			n++;
		snprintf(word, sizeof(word), "%.*s", (int)n, p);
		p += n;
		int id = prim_lookup(reg, word);
		if (id < 0) {
			if (bad && badlen)
				snprintf(bad, badlen, "%s", word);
			return -1;
		}
		prim_add(&s, (enum prim_id)id);
	}
	*out = s;
	return 0;
}

const char *prim_list_repeat(const struct prim_registry *reg, const char *list)
{
	struct prim_set seen = { 0 };
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *save = NULL, *w = strtok_r(buf, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
		struct prim_set one;
		if (prim_parse_list(reg, w, &one, NULL, 0) < 0)
			return NULL;
		for (int i = 0; i < P_COUNT; i++)
			if (prim_has(&one, (enum prim_id)i) && prim_has(&seen, (enum prim_id)i))
				return prim_desc_of(reg, i)->name;
		for (int i = 0; i < PRIM_WORDS; i++)
			seen.w[i] |= one.w[i];
	}
	return NULL;
}

void prim_set_str(const struct prim_registry *reg, const struct prim_set *s, char *buf, size_t len)
{
	size_t off = 0;
	if (len)
		buf[0] = '\0';
	for (int i = 0; i < P_COUNT && off < len; i++) {
		if (!prim_has(s, (enum prim_id)i))
			continue;
		int n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
		    prim_desc_of(reg, i)->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void prim_key_mask(const struct prim_registry *reg, const struct prim_set *s, struct flow_key *mask)
{
	memset(mask, 0, sizeof(*mask));
	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(reg, i);
		if (prim_has(s, (enum prim_id)i) && d->len)
			memset((uint8_t *)mask + d->off, 0xff, d->len);
	}
}

bool prim_sum_alone(struct prim_set *s)
{
	static const enum prim_id sums[] = { P_SUM_MAC, P_SUM_HOST, P_SUM_NET, P_SUM_AS, P_SUM_PORT };
	/* pmacct's first aggregation bitmap: what its sum check resets */
	static const enum prim_id reset[] = {
		P_SRC_MAC, P_DST_MAC, P_VLAN, P_COS, P_ETYPE, P_SRC_HOST, P_DST_HOST, P_SRC_NET,
		P_DST_NET, P_SRC_MASK, P_DST_MASK, P_PROTO, P_TOS, P_SRC_PORT, P_DST_PORT, P_TCPFLAGS,
		P_SRC_AS, P_DST_AS, P_PEER_SRC_AS, P_PEER_DST_AS, P_PEER_SRC_IP, P_PEER_DST_IP,
		P_IN_IFACE, P_OUT_IFACE, P_MPLS_VPN_RD, P_NONE, P_FLOWS,
		P_STD_COMM, P_EXT_COMM, P_AS_PATH, P_LOCAL_PREF, P_MED, P_SRC_STD_COMM,
		P_SRC_EXT_COMM, P_SRC_AS_PATH, P_SRC_LOCAL_PREF, P_SRC_MED,
	};
	enum prim_id keep = P_COUNT;
	bool changed = false;

	for (size_t i = 0; i < NELEM(sums) && keep == P_COUNT; i++)
		if (prim_has(s, sums[i]))
			keep = sums[i];
	if (keep == P_COUNT)
		return false;
	for (size_t i = 0; i < NELEM(sums); i++)
		if (sums[i] != keep && prim_has(s, sums[i])) {
			s->w[sums[i] / 64] &= ~((uint64_t)1 << (sums[i] % 64));
			changed = true;
		}
	for (size_t i = 0; i < NELEM(reset); i++)
		if (prim_has(s, reset[i])) {
			s->w[reset[i] / 64] &= ~((uint64_t)1 << (reset[i] % 64));
			changed = true;
		}
	return changed;
}

void prim_sum_dst(int id, size_t *off, size_t *len)
{
	switch (id) {
	case P_SUM_HOST: *off = offsetof(struct flow_key, dst_ip); *len = sizeof(struct fr_ip); break;
	case P_SUM_NET: *off = offsetof(struct flow_key, dst_net); *len = sizeof(struct fr_ip); break;
	case P_SUM_AS: *off = offsetof(struct flow_key, dst_as); *len = sizeof(uint32_t); break;
	case P_SUM_PORT: *off = offsetof(struct flow_key, dst_port); *len = sizeof(uint16_t); break;
	case P_SUM_MAC: *off = offsetof(struct flow_key, dst_mac); *len = 6; break;
	default: *off = *len = 0; break;
	}
}

void prim_key_span(const struct prim_registry *reg, const struct prim_set *s, size_t *lo, size_t *hi)
{
	size_t l = sizeof(struct flow_key), h = 0;

	for (int i = 0; i < P_COUNT; i++) {
		size_t off = prim_desc_of(reg, i)->off, len = prim_desc_of(reg, i)->len;
		if (!prim_has(s, (enum prim_id)i))
			continue;
		for (int pass = 0; pass < 2; pass++) {
			if (len) {
				l = off < l ? off : l;
				h = off + len > h ? off + len : h;
			}
			prim_sum_dst(i, &off, &len);
		}
	}
	if (h == 0)
		l = 0;
	*lo = l;
	*hi = h;
}

static bool is_text(enum prim_fmt f)
{
	return f == PF_STR || f == PF_COMMS || f == PF_ASPATH;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct key_seg *x = a, *y = b;

	return x->off != y->off ? (x->off < y->off ? -1 : 1) : (x->len > y->len ? -1 : x->len < y->len);
}

void prim_key_layout(const struct prim_registry *reg, const struct prim_set *s, size_t gap,
    struct key_layout *out)
{
	struct key_seg all[PRIM_SEGS_MAX];
	size_t n = 0;

	for (int i = 0; i < P_COUNT; i++) {
		const struct prim_desc *d = prim_desc_of(reg, i);
		size_t off = d->off, len = d->len;
		if (!prim_has(s, (enum prim_id)i))
			continue;
		for (int pass = 0; pass < 2; pass++) {
			if (len && n < PRIM_SEGS_MAX)
				all[n++] = (struct key_seg){ (uint16_t)off, (uint16_t)len, 0, is_text(d->fmt) };
			prim_sum_dst(i, &off, &len);
		}
	}
	qsort(all, n, sizeof(all[0]), seg_cmp);
	out->n = 0;
	out->bytes = 0;
	for (size_t i = 0; i < n; i++) {
		struct key_seg *c = out->n ? &out->seg[out->n - 1] : NULL;
		size_t end = c ? (size_t)c->off + c->len : 0;
		if (c && all[i].off + all[i].len <= end)
			continue;	/* inside the previous piece (a field listed twice) */
		if (c && !c->text && !all[i].text && all[i].off <= end + gap) {
			c->len = (uint16_t)(all[i].off + all[i].len - c->off);
			continue;
		}
		out->seg[out->n++] = all[i];
	}
	for (size_t i = 0; i < out->n; i++) {
		out->seg[i].at = (uint16_t)out->bytes;
		out->bytes += out->seg[i].len;
	}
	out->single = out->n == 1 && !out->seg[0].text;
	out->single_off = out->n ? out->seg[0].off : 0;
}

void prim_key_layout_span(size_t lo, size_t hi, struct key_layout *out)
{
	out->n = hi > lo;
	out->bytes = (uint32_t)(hi - lo);
	out->seg[0] = (struct key_seg){ (uint16_t)lo, (uint16_t)(hi - lo), 0, false };
	out->single = out->n == 1;
	out->single_off = (uint32_t)lo;
}

/*
 * The primitives of each `-a` group in pmacct 1.7.7's order (the union of its
 * pmacctd, nfacctd, sfacctd and uacctd lists, which agree; not the column
 * order).  A primitive of a group not named here follows the named ones, in
 * table order.
 */
static const char *const list_order[] = {
	"cos", "etype", "src_mac", "dst_mac", "vlan",
	"src_host", "dst_host", "src_mask", "dst_mask", "src_net", "dst_net", "proto", "tos",
	"src_port", "dst_port", "tcpflags",
	"src_as", "dst_as", "as_path", "std_comm", "ext_comm", "lrg_comm", "local_pref", "med",
	"src_as_path", "src_std_comm", "src_ext_comm", "src_lrg_comm", "src_local_pref", "src_med",
	"peer_src_as", "peer_dst_as", "peer_dst_ip",
	"fw_event", "nat_event", "post_nat_src_host", "post_nat_dst_host", "post_nat_src_port",
	"post_nat_dst_port",
	"vxlan", "tunnel_src_mac", "tunnel_dst_mac", "tunnel_src_host", "tunnel_dst_host",
	"tunnel_proto", "tunnel_tos", "tunnel_src_port", "tunnel_dst_port",
	"mpls_label_bottom", "mpls_label_top", "mpls_stack_depth", "mpls_vpn_rd", "mpls_pw_id",
	"class", "flows", "src_host_country", "dst_host_country", "src_host_pocode",
	"dst_host_pocode", "src_host_coords", "dst_host_coords", "in_iface", "out_iface",
	"peer_src_ip", "sampling_rate", "sampling_direction", "tag", "tag2", "label",
	"export_proto_seqno", "export_proto_version", "export_proto_sysid", "src_roa", "dst_roa",
	"timestamp_start", "timestamp_end", "timestamp_arrival", "timestamp_export",
};

/* The built-in row named `name` (hidden slots have no name), or -1. */
static int builtin_id(const char *name)
{
	for (int i = 0; i < P_COUNT; i++)
		if (prim_builtin[i].name[0] && strcmp(prim_builtin[i].name, name) == 0)
			return i;
	return -1;
}

static bool in_list_order(const char *name)
{
	for (size_t k = 0; k < NELEM(list_order); k++)
		if (strcmp(list_order[k], name) == 0)
			return true;
	return false;
}

/* The i-th primitive `-a` considers for group g: list_order's, then the group's others; -1 after. */
static int list_id(const char *g, int i)
{
	for (size_t k = 0; k < NELEM(list_order); k++) {
		int id = builtin_id(list_order[k]);
		if (id >= 0 && strcmp(prim_builtin[id].group, g) == 0 && i-- == 0)
			return id;
	}
	for (int id = 0; id < P_COUNT; id++)
		if (prim_builtin[id].name[0] && strcmp(prim_builtin[id].group, g) == 0 &&
		    !in_list_order(prim_builtin[id].name) && i-- == 0)
			return id;
	return -1;
}

bool prim_listed(const struct prim_desc *d, uint8_t src)
{
	if ((d->flags & PRIM_HIDDEN) || !(d->sources & src))
		return false;
	if ((d->flags2 & PRIM_LIST_NO_PM) && src == SRC_PM)
		return false;
	return !(d->flags2 & PRIM_LIST_NF) || (src & SRC_NF);
}

void prim_print_list(uint8_t src, const char *banner)
{
	static const char *const groups[] = { "L2", "L3", "L4", "BGP", "NAT", "TUNNEL", "MPLS", "MISC",
		"TIME" };

	printf("%s\n", banner);
	for (size_t g = 0; g < NELEM(groups); g++) {
		printf("\n%s\n", groups[g]);
		for (int j = 0, i; (i = list_id(groups[g], j)) >= 0; j++) {
			const struct prim_desc *d = &prim_builtin[i];
			if (!prim_listed(d, src) || strcmp(d->group, groups[g]))
				continue;
			printf("%-32s : %-64s\n", d->name, d->descr);
		}
	}
}
