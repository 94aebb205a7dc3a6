/* SPDX-License-Identifier: BSD-3-Clause */
/* keys.c: the one table of configuration keys (name, scope, type, default, aliases, field). */
#include "keys.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/text.h"
#include "lib/xalloc.h"

#define CO(f)	((uint16_t)offsetof(struct core_cfg, f))
#define PO(f)	((uint16_t)offsetof(struct plugin_cfg, f))
#define CSZ(f)	((uint16_t)sizeof(((struct core_cfg *)0)->f))
#define PSZ(f)	((uint16_t)sizeof(((struct plugin_cfg *)0)->f))

/* A typed global key stored in struct core_cfg. */
#define G(name, al, type, f, min, def, descr) \
	{ name, al, CFG_GLOBAL, type, CO(f), CSZ(f), min, def, descr, 0 }
/* A global / per-plugin CT_UINT key with an upper bound. */
#define GX(name, al, f, min, max, def, descr) \
	{ name, al, CFG_GLOBAL, CT_UINT, CO(f), CSZ(f), min, def, descr, max }
#define PX(name, al, f, min, max, def, descr) \
	{ name, al, CFG_PLUGIN, CT_UINT, PO(f), PSZ(f), min, def, descr, max }
/* A typed per-plugin key stored in struct plugin_cfg. */
#define P(name, al, type, f, min, def, descr) \
	{ name, al, CFG_PLUGIN, type, PO(f), PSZ(f), min, def, descr, 0 }
/* A typed per-plugin-only key (no global form). */
#define N(name, al, type, f, descr) \
	{ name, al, CFG_NO_GLOBAL, type, PO(f), PSZ(f), 0, NULL, descr, 0 }
/*
 * Keys pmacct has whose features this implementation does not have: kept
 * as raw text in the extra list (global, per plugin, per plugin only) and
 * warned about when set.  Typing one means moving it to G()/P() with a
 * field in config.h: the parser and cfg_dump() follow.
 */
#define GR(name, al, descr) { name, al, CFG_GLOBAL, CT_RAW, CO(extra), 0, 0, NULL, descr, 0 }
#define PR(name, al, descr) { name, al, CFG_PLUGIN, CT_RAW, PO(extra), 0, 0, NULL, descr, 0 }
#define NR(name, al, descr) { name, al, CFG_NO_GLOBAL, CT_RAW, PO(extra), 0, 0, NULL, descr, 0 }

/* The plugin_cfg rows share print_* fields with sql_/kafka_/amqp_ names, as pmacct does. */
#define SQLK(s)	"sql_" s " kafka_" s " amqp_" s

const struct cfg_key cfg_keys[] = {
	/* process */
	G("debug", NULL, CT_BOOL, debug, 0, "false", "verbose logging (-d)"),
	G("daemonize", NULL, CT_BOOL, daemonize, 0, "false", "run in the background (-D)"),
	G("pidfile", NULL, CT_STR, pidfile, 0, NULL,
	    "core PID file (-F); plugins write <pidfile>-<type>-<name>"),
	G("syslog", NULL, CT_FACILITY, syslog, 0, NULL,
	    "log to syslog with this facility (-S): auth mail daemon kern user local0-7"),
	G("logfile", NULL, CT_STR, logfile, 0, NULL, "log to this file, lines prefixed by a UTC time"),
	G("core_proc_name", "pmacctd_proc_name nfacctd_proc_name sfacctd_proc_name", CT_NAME,
	    core_proc_name, 0, "default", "name of the core process in logs"),
	{ "plugins", NULL, CFG_GLOBAL, CT_PLUGINS, 0, 0, 0, "memory",
	    "plugin instances: type[name], ... (-P); only the first plugins line counts", 0 },

	/* capture (pmacctd) */
	G("pcap_interface", "interface", CT_STR, pcap_interface, 0, NULL, "capture interface (-i)"),
	G("pcap_interface_wait", "interface_wait", CT_BOOL, pcap_interface_wait, 0, "false",
	    "wait for the interface to appear (-w)"),
	/* NetFlow/sFlow collectors: one field each, under every daemon's name */
	G("nfacctd_ip", "sfacctd_ip", CT_STR, collector_ip, 0, NULL,
	    "bind address of the collector socket (-L); all addresses, dual stack, by default"),
	G("nfacctd_port", "sfacctd_port", CT_PORT, collector_port, 0, NULL,
	    "UDP port (-l): 2100 for nfacctd, 6343 for sfacctd"),
	G("nfacctd_ipv6_only", "sfacctd_ipv6_only", CT_BOOL, collector_ipv6_only, 0, "false",
	    "IPv6 socket without IPv4-mapped addresses"),
	G("nfacctd_pipe_size", "sfacctd_pipe_size", CT_SIZE, collector_pipe_size, 0, NULL,
	    "socket receive buffer (SO_RCVBUF), bytes"),
	G("nfacctd_allow_file", "sfacctd_allow_file", CT_STR, collector_allow_file, 0, NULL,
	    "exporters allowed (addresses, prefixes); an empty file allows none"),
	G("collector_workers", NULL, CT_UINT, collector_workers, 1, "1",
	    "receive threads on SO_REUSEPORT sockets (ours; pmacct has one)"),
	G("nfacctd_max_exporters", "sfacctd_max_exporters", CT_UINT, collector_max_exporters, 1,
	    "65536", "exporters (sFlow: agents) with statistics of their own; the rest share one "
	    "entry, counted and logged (ours)"),
	G("pcap_savefile", "savefile", CT_STR, pcap_savefile, 0, NULL, "read this capture file (-I)"),
	G("pcap_savefile_wait", "savefile_wait", CT_BOOL, pcap_savefile_wait, 0, "false",
	    "stay alive after the capture file ends (-W)"),
	G("pcap_savefile_delay", "savefile_delay", CT_UINT, pcap_savefile_delay, 0, "0",
	    "seconds to sleep before reading the capture file (-Z)"),
	G("pcap_savefile_replay", "savefile_replay", CT_UINT, pcap_savefile_replay, 0, "0",
	    "read the capture file this many times, 0 = once (-Y)"),
	G("promisc", NULL, CT_BOOL, promisc, 0, "true", "promiscuous mode (-N sets false)"),
	GX("snaplen", NULL, snaplen, 128, 262144, "128", "capture length in bytes (-L), 128..262144"),
	G("pcap_filter", NULL, CT_STR, pcap_filter, 0, NULL, "global BPF capture filter"),
	G("pmacctd_nonroot", "nfacctd_nonroot sfacctd_nonroot", CT_BOOL, nonroot, 0, "false",
	    "allow running without root (-z)"),
	G("pmacctd_force_frag_handling", "uacctd_force_frag_handling", CT_BOOL, force_frag_handling, 0, "false",
	    "reassemble fragments even without L4 primitives"),
	G("pmacctd_flow_lifetime", "uacctd_flow_lifetime", CT_UINT, flow_lifetime, 1, "60",
	    "seconds of inactivity ending a flow (flows counter)"),
	G("pmacctd_frag_buffer_size", "uacctd_frag_buffer_size", CT_UINT, frag_buffer_size, 0, "0",
	    "fragment table bytes, 0 = 4 MB"),
	G("tunnel_0", NULL, CT_TUNNEL, tunnel_0, 0, NULL,
	    "pmacctd: account tunnelled packets on their inner packet: gtp, <UDP port> (as "
	    "pmacct); ours: vxlan[, <UDP port>], gre, ipip; up to 4 entries separated by ';'"),
	G("pmacctd_flow_buffer_size", "uacctd_flow_buffer_size", CT_UINT, flow_buffer_size, 0, "0",
	    "flow table bytes, 0 = 16 MB"),
	/* uacctd: the NFLOG source */
	GX("uacctd_group", NULL, uacctd_group, 0, 65535, "0",
	    "NFLOG group to join (-g; uacctd); `log group N` in nftables, `-j NFLOG --nflog-group N` in iptables"),
	GX("uacctd_nl_size", NULL, uacctd_nl_size, 4096, 67108864, "131072",
	    "NFLOG netlink buffer bytes (uacctd): the kernel batches up to 128 KB, the socket buffer takes this size"),
	GX("uacctd_threshold", NULL, uacctd_threshold, 1, 1048576, "1",
	    "packets the kernel queues before handing them to uacctd (uacctd)"),
	G("classifier_num_roots", NULL, CT_UINT, cl_num_roots, 1, "512",
	    "nDPI flow table: initial hash buckets (class primitive, pmacctd)"),
	G("classifier_max_flows", NULL, CT_UINT, cl_max_flows, 1, "200000000",
	    "nDPI flow table: most flows classified at once; later flows are \"unknown\""),
	G("classifier_proto_guess", NULL, CT_BOOL, cl_proto_guess, 0, "false",
	    "guess the class of a flow nDPI gave up on from its protocol and ports"),
	G("classifier_idle_scan_period", NULL, CT_UINT, cl_idle_scan_period, 1, "10",
	    "seconds (packet time) between scans for idle classified flows"),
	G("classifier_idle_max_time", NULL, CT_UINT, cl_idle_max_time, 1, "600",
	    "seconds of inactivity after which a classified flow is forgotten (master)"),
	G("classifier_idle_scan_budget", NULL, CT_UINT, cl_idle_scan_budget, 1, "1024",
	    "idle flows expired per scan, at most"),
	G("classifier_giveup_proto_tcp", NULL, CT_UINT, cl_giveup_tcp, 1, "10",
	    "packets of a TCP flow nDPI sees before giving up"),
	G("classifier_giveup_proto_udp", NULL, CT_UINT, cl_giveup_udp, 1, "8",
	    "packets of a UDP flow nDPI sees before giving up"),
	G("classifier_giveup_proto_other", NULL, CT_UINT, cl_giveup_other, 1, "8",
	    "packets of another IP protocol's flow nDPI sees before giving up"),

	/* maps and enrichment */
	P("networks_file", NULL, CT_STR, networks_file, 0, NULL,
	    "networks [+ASN] list for *_net, *_mask, *_as (-n)"),
	P("networks_mask", NULL, CT_UINT, networks_mask, 0, "0", "static mask for *_net, 0 = none"),
	P("networks_file_filter", NULL, CT_BOOL, networks_file_filter, 0, "false",
	    "zero hosts outside every prefix of networks_file"),
	P("networks_file_no_lpm", NULL, CT_BOOL, networks_file_no_lpm, 0, "false",
	    "with *_net/_as longest: a networks_file match wins over the record"),
	P("networks_no_mask_if_zero", NULL, CT_BOOL, networks_no_mask_if_zero, 0, "false",
	    "a mask of 0 leaves the net as the whole address"),
	G("pmacctd_net", "uacctd_net nfacctd_net sfacctd_net", CT_STR, net_source, 0, NULL,
	    "source of *_net, *_mask: netflow / sflow (collectors' default: the record's), file, mask, "
	    "longest (fallback), bgp / bmp (with bgp_daemon); igp refused; pmacctd default: file and/or mask"),
	G("pmacctd_as", "uacctd_as nfacctd_as nfacctd_as_new sfacctd_as sfacctd_as_new", CT_STR,
	    as_source, 0, NULL,
	    "source of *_as: netflow / sflow / false (default: the record's), file (true), "
	    "longest (fallback), bgp / bmp (with bgp_daemon)"),
	P("ports_file", NULL, CT_STR, ports_file, 0, NULL, "ports to account; others are zeroed (-t)"),
	P("pre_tag_map", NULL, CT_STR, pre_tag_map, 0, NULL, "tagging map (tag, tag2), per plugin"),
	P("maps_entries", "pre_tag_map_entries", CT_UINT, maps_entries, 1, "384",
	    "maximum rows of a map"),
	P("maps_row_len", NULL, CT_UINT, maps_row_len, 3, NULL,
	    "maximum length of a map row (288 when unset, as pmacct 1.7.7)"),
	G("maps_refresh", "refresh_maps", CT_BOOL, maps_refresh, 0, "true", "reload maps on SIGUSR2"),
	G("pmacctd_renormalize", "nfacctd_renormalize sfacctd_renormalize uacctd_renormalize", CT_BOOL, renormalize, 0, "false",
	    "multiply counters by pmacctd_ext_sampling_rate (-R)"),
	G("pmacctd_ext_sampling_rate", "nfacctd_ext_sampling_rate sfacctd_ext_sampling_rate uacctd_ext_sampling_rate", CT_UINT, ext_sampling_rate, 1, NULL,
	    "the capture is already sampled 1 out of N"),

	/* timestamps */
	G("timestamps_secs", NULL, CT_BOOL, timestamps_secs, 0, "false",
	    "timestamp primitives at second resolution"),
	G("timestamps_rfc3339", NULL, CT_BOOL, timestamps_rfc3339, 0, "false",
	    "print timestamps as RFC 3339"),
	G("timestamps_utc", NULL, CT_BOOL, timestamps_utc, 0, "false",
	    "print timestamps and time-bins in UTC, not local time"),
	G("timestamps_since_epoch", "sql_history_since_epoch", CT_BOOL, timestamps_since_epoch, 0,
	    "false", "print timestamps as seconds since the epoch"),

	/* every plugin */
	P("aggregate", NULL, CT_AGG, aggregate, 0, "src_host", "primitives to aggregate on (-c)"),
	N("aggregate_filter", NULL, CT_STR, aggregate_filter, "BPF filter of this plugin"),
	N("pre_tag_filter", NULL, CT_STR, pre_tag_filter, "accept only these tags (0, N, -N, A-B, ...)"),
	N("pre_tag2_filter", NULL, CT_STR, pre_tag2_filter, "accept only these tag2 values"),
	N("pre_tag_label_filter", NULL, CT_STR, pre_tag_label_filter,
	    "accept only these labels (null: no label, -x: not x)"),
	P("post_tag", NULL, CT_U64, post_tag, 0, NULL, "static tag set by this plugin"),
	P("post_tag2", NULL, CT_U64, post_tag2, 0, NULL, "static tag2 set by this plugin"),
	P("sampling_rate", NULL, CT_UINT, sampling_rate, 0, NULL, "account 1 packet out of N"),
	P("plugin_pipe_size", NULL, CT_SIZE, pipe_size, 1, "4096000",
	    "bytes of the core-to-plugin ring"),
	P("plugin_buffer_size", NULL, CT_SIZE, buffer_size, 1, NULL,
	    "bytes of one batch in the ring (default 10240)"),

	/* print (shared with sql_ / kafka_ / amqp_ names, one field as in pmacct) */
	P("print_refresh_time", SQLK("refresh_time"), CT_UINT, refresh_time, 1, "60",
	    "seconds between purges (-r)"),
	P("print_output", NULL, CT_OUTPUT, output, 0, "formatted",
	    "formatted, csv, json, event_formatted, event_csv (-O)"),
	P("print_output_file", NULL, CT_STR, output_file, 0, NULL,
	    "output file template, stdout if unset (-o)"),
	P("print_output_file_append", NULL, CT_BOOL, output_file_append, 0, "false",
	    "append to the output file instead of overwriting (-A)"),
	P("print_latest_file", NULL, CT_STR, latest_file, 0, NULL,
	    "symlink pointing at the latest output file"),
	P("print_markers", "kafka_markers amqp_markers", CT_BOOL, markers, 0, "false",
	    "start/end markers around each purge (-M)"),
	P("print_output_separator", NULL, CT_SEP, output_separator, 0, ",",
	    "CSV separator, one character; \\t and \\s allowed (-E)"),
	P("print_num_protos", SQLK("num_protos"), CT_BOOL, num_protos, 0, "false",
	    "print protocol numbers, not names (-u)"),
	P("tcpflags_encode_as_array", NULL, CT_BOOL, tcpflags_encode_as_array, 0, "false",
	    "JSON tcp_flags as an array of flag names, [\"SYN\", \"ACK\"]"),
	P("mpls_label_stack_encode_as_array", NULL, CT_BOOL, mpls_label_stack_encode_as_array, 0,
	    "false", "JSON mpls_label_stack as an array [\"0-<label>\", ...], not \"a_b_c\""),
	P("fwd_status_encode_as_string", NULL, CT_BOOL, fwd_status_encode_as_string, 0, "false",
	    "JSON fwd_status as RFC 7270 text (\"FORWARDED Unknown\"), not a number"),
	P("pre_tag_label_encode_as_map", NULL, CT_BOOL, label_encode_as_map, 0, "false",
	    "JSON label as a map: set_label=k1%v1,k2%v2 prints {\"k1\": \"v1\", \"k2\": \"v2\"} (master)"),
	P("as_path_encode_as_array", NULL, CT_BOOL, as_path_encode_as_array, 0, "false",
	    "JSON as_path and as_path_src as arrays, [\"65001\", \"65002\"], not \"65001_65002\" (master)"),
	P("bgp_comms_encode_as_array", NULL, CT_BOOL, bgp_comms_encode_as_array, 0, "false",
	    "JSON comms, ecomms, lcomms and their _src as arrays, [\"65000:1\", ...] (master)"),
	P("print_cache_entries", "kafka_cache_entries amqp_cache_entries", CT_UINT, cache_entries, 1,
	    "16411", "cache buckets: the cache holds at most 11 x this - 1 entries, then purges early"),
	P("print_history", SQLK("history"), CT_PERIOD, history, 0, NULL,
	    "time-bin length N[m|h|d|w|M]; bare N = seconds, a multiple of 60"),
	P("print_history_roundoff", SQLK("history_roundoff") " amqp_time_roundoff", CT_ROUNDOFF,
	    history_roundoff, 0, NULL, "align time-bins to m h d w M (d and w exclusive)"),
	P("print_history_offset", SQLK("history_offset"), CT_INT, history_offset, 0, NULL,
	    "shift time-bins back by N seconds"),
	P("print_trigger_exec", SQLK("trigger_exec"), CT_STR, trigger_exec, 0, NULL,
	    "executable run after each purge"),
	P("print_startup_delay", SQLK("startup_delay"), CT_UINT, startup_delay, 0, "0",
	    "seconds to delay the purge schedule"),
	P("print_write_empty_file", NULL, CT_BOOL, write_empty_file, 0, "false",
	    "create the output file even with nothing to write"),

	/* memory */
	P("imt_path", NULL, CT_STR, imt_path, 0, "/tmp/collect.pipe", "client socket path (-p)"),
	P("imt_path_mode", NULL, CT_MODE, imt_path_mode, 0, "0660",
	    "permissions of the client socket (octal): owner and group by default"),
	P("imt_buckets", NULL, CT_UINT, imt_buckets, 1, "32771", "hash buckets (-b)"),
	P("imt_mem_pools_number", NULL, CT_UINT, imt_mem_pools_number, 0, "16",
	    "memory pools, 0 = unlimited (-m)"),
	P("imt_mem_pools_size", NULL, CT_UINT, imt_mem_pools_size, 1, "8192",
	    "bytes per memory pool (-s)"),

	/* http (ours, docs/http.md) */
	P("http_listen", NULL, CT_STR, http_listen, 0, "127.0.0.1:8080",
	    "http plugin: [host:]port of the API, dashboard and /metrics; a bare port is loopback"),
	P("http_token", NULL, CT_STR, http_token, 0, NULL,
	    "http plugin: bearer token required by the API; writes need it; never logged"),
	P("http_history", NULL, CT_UINT, http_history, 1, "21600",
	    "http plugin: seconds of per-bin totals kept in memory"),
	P("http_history_bin", NULL, CT_UINT, http_history_bin, 1, "5",
	    "http plugin: seconds per time bin of the totals"),
	P("http_max_entries", NULL, CT_UINT, http_max_entries, 0, "1000000",
	    "http plugin: entries of its table, 0 = unbounded"),

	/*
	 * ---- custom primitives, maps, files and privileges, then the other
	 * plugins' keys: typed (G/P) or, for features not implemented, kept raw (GR/PR) ----
	 */
	G("aggregate_primitives", NULL, CT_STR, aggregate_primitives, 0, NULL,
	    "custom primitives definition file (name= field_type= len= semantics=)"),
	G("flow_to_rd_map", "nfacctd_flow_to_rd_map", CT_STR, flow_to_rd_map, 0, NULL,
	    "map giving mpls_vpn_rd by exporter (ip=), interface (in=, out=), label"),
	G("files_umask", NULL, CT_MODE, files_umask, 0, "077",
	    "umask of created files and directories (octal)"),
	G("files_uid", NULL, CT_STR, files_uid, 0, NULL,
	    "owner (user name or uid) of created files; the daemon runs as it when `user` is unset"),
	G("files_gid", NULL, CT_STR, files_gid, 0, NULL,
	    "group (name or gid) of created files; the daemon runs as it when `group` is unset"),
	G("user", NULL, CT_STR, user, 0, NULL,
	    "ours: once sockets and capture are open, run as this user (name or uid)"),
	G("group", NULL, CT_STR, group, 0, NULL,
	    "ours: with `user`, run as this group instead of the user's own; no other groups kept"),
	GR("propagate_signals", NULL, "forward signals from core to plugins"),
	GR("plugin_exit_any", NULL, "stop the daemon when any plugin exits"),
	GR("proc_priority", NULL, "process priority (nice)"),
	G("pcap_interfaces_map", NULL, CT_STR, pcap_interfaces_map, 0, NULL,
	    "interfaces to capture from, each with its ifindex and direction (ifname= ifindex= direction=); "
	    "reloaded on SIGUSR2"),
	G("pcap_direction", "uacctd_direction", CT_NAME, pcap_direction, 0, NULL,
	    "capture direction in | out: pcap_ifindex fills in_iface (in) or out_iface (out)"),
	G("pcap_ifindex", NULL, CT_NAME, pcap_ifindex, 0, "none",
	    "ifindex of the capture interface: sys (the system's), hash (of its name), map "
	    "(pcap_interfaces_map), none"),
	GR("pcap_protocol", NULL, "ethertype filter of the capture socket"),
	GR("networks_cache_entries", NULL, "networks lookup cache buckets"),
	GR("protos_file", NULL, "protocols to account; others zeroed"),
	GR("tos_file", NULL, "ToS values to account; others zeroed"),
	GR("maps_index", NULL, "index maps for faster lookups"),
	G("sampling_map", NULL, CT_STR, sampling_map, 0, NULL,
	    "per exporter/interface sampling rates: id=<rate> ip=<exporter> [in=] [out=] (nfacctd, sfacctd)"),
	GR("classifiers", NULL, "L7 classifiers directory"),
	GR("pmacctd_flow_buffer_buckets", "uacctd_flow_buffer_buckets", "flow table buckets (256)"),
	GR("pmacctd_conntrack_buffer_size", "uacctd_conntrack_buffer_size", "conntrack table bytes"),
	GR("pmacctd_flow_tcp_lifetime", "uacctd_flow_tcp_lifetime", "TCP flow lifetime"),
	GR("pmacctd_pipe_size", NULL, "capture socket buffer"),
	G("pmacctd_stitching", "nfacctd_stitching sfacctd_stitching uacctd_stitching", CT_BOOL, stitching, 0, "false",
	    "timestamp_min/timestamp_max per aggregate: first start and last end time (print, SQL, Kafka, AMQP)"),
	GR("pmacctd_time_new", NULL, "time-bin by arrival time"),
	GR("nfacctd_interface", NULL, "NetFlow bind interface"),
	G("nfacctd_time_secs", NULL, CT_BOOL, nf_time_secs, 0, "false",
	    "NetFlow v5/v9 uptime-relative times in seconds, not milliseconds"),
	G("nfacctd_time_new", NULL, CT_BOOL, nf_time_new, 0, "false",
	    "time-bin by arrival time, not the flow start"),
	GR("nfacctd_mcast_groups", NULL, "multicast groups to join"),
	GR("nfacctd_peer_as", NULL, "exported AS are peer AS"),
	G("nfacctd_pro_rating", NULL, CT_BOOL, nf_pro_rating, 0, "false",
	    "split a flow's counters across the time-bins it spans (print_history / sql_history)"),
	G("nfacctd_templates_file", NULL, CT_STR, nf_templates_file, 0, NULL,
	    "persist v9/IPFIX templates (JSON lines) across restarts"),
	G("nfacctd_max_templates", NULL, CT_UINT, nf_max_templates, 1, "65536",
	    "v9/IPFIX templates kept; more are refused, counted and logged (ours)"),
	G("nfacctd_early_data_hold", NULL, CT_UINT, nf_hold_secs, 0, "0",
	    "seconds v9/IPFIX data sets that arrive before their template are held, then decoded "
	    "when it arrives (ours; 0: counted as unknown_template and skipped, as pmacct)"),
	G("nfacctd_early_data_bytes", NULL, CT_SIZE, nf_hold_bytes, 0, "4194304",
	    "bytes of such data held at most per receive thread (ours)"),
	GR("nfacctd_templates_receiver", NULL, "replicate templates to"),
	GR("nfacctd_templates_port", NULL, "receive templates on"),
	G("nfacctd_account_options", NULL, CT_BOOL, nf_account_options, 0, "false",
	    "account option records too"),
	G("use_ip_next_hop", NULL, CT_BOOL, use_ip_next_hop, 0, "false",
	    "peer_dst_ip from the IP next hop (NetFlow IE 15/62, v5) instead of the BGP one"),
	GR("nfacctd_disable_checks", "nfacctd_disable_sanity_checks", "disable sequence checks"),
	GR("nfacctd_disable_opt_scope_check", NULL, "treat options as system scoped"),
	G("nfacctd_pre_processing_checks", NULL, CT_BOOL, nf_pre_processing_checks, 0, "false",
	    "drop a v9/IPFIX data set whose padding after the last record is not zero: decoded with "
	    "a reused template id (master)"),
	G("nfacctd_ignore_exporter_address", NULL, CT_BOOL, nf_ignore_exporter_address, 0, "false",
	    "peer_src_ip is the datagram source even when options carry IE 130/131"),
	GR("sfacctd_interface", NULL, "sFlow bind interface"),
	GR("sfacctd_mcast_groups", NULL, "multicast groups to join"),
	GR("sfacctd_peer_as", NULL, "exported AS are peer AS"),
	G("sfacctd_counter_file", NULL, CT_STR, sf_counter_file, 0, NULL,
	    "sFlow counter samples log, JSON lines ($peer_src_ip: one file per agent)"),
	G("sfacctd_counter_output", NULL, CT_STR, sf_counter_output, 0, NULL,
	    "counter log format: json (the default and only one)"),
	GR("sfacctd_time_new", NULL, "time-bin by arrival time"),
	GR("sfacctd_ignore_exporter_address", NULL, "use the socket source address"),
	/* the BGP daemon (docs/bgp.md) */
	G("bgp_daemon", NULL, CT_BOOL, bgp.daemon, 0, "false", "the BGP thread: a passive peer"),
	G("bgp_daemon_ip", NULL, CT_STR, bgp.ip, 0, NULL, "BGP listen address (and Router-ID), default all"),
	G("bgp_daemon_ipv6_only", NULL, CT_BOOL, bgp.ipv6_only, 0, "false",
	    "listening on ::, refuse IPv4 (mapped) sessions"),
	G("bgp_daemon_id", NULL, CT_STR, bgp.id, 0, NULL,
	    "BGP Router-ID (IPv4), default bgp_daemon_ip, else 1.2.3.4"),
	G("bgp_daemon_as", NULL, CT_UINT, bgp.as, 0, "0", "local AS, 0 = the peer's own (iBGP)"),
	G("bgp_daemon_port", NULL, CT_PORT, bgp.port, 0, "179", "BGP listen port"),
	GX("bgp_daemon_ipprec", NULL, bgp.ipprec, 0, 7, "0", "IP precedence of the messages sent"),
	G("bgp_daemon_max_peers", NULL, CT_UINT, bgp.max_peers, 1, "4",
	    "most BGP sessions at once (4: pmacct's effective default; CONFIG-KEYS says 10)"),
	G("bgp_daemon_pipe_size", NULL, CT_SIZE, bgp.pipe_size, 0, "0", "BGP sockets' SO_RCVBUF, 0 = OS default"),
	G("bgp_daemon_batch", NULL, CT_UINT, bgp.batch, 0, "0", "sessions accepted per batch, 0 = no batches"),
	G("bgp_daemon_batch_interval", NULL, CT_UINT, bgp.batch_interval, 0, "0", "seconds between batches"),
	G("bgp_daemon_allow_file", NULL, CT_STR, bgp.allow_file, 0, NULL,
	    "addresses/prefixes allowed to peer (reload: SIGUSR2)"),
	G("bgp_daemon_md5_file", NULL, CT_STR, bgp.md5_file, 0, NULL,
	    "TCP-MD5 passwords: \"address, password\" per line"),
	G("bgp_daemon_tag_map", NULL, CT_STR, bgp.tag_map, 0, NULL,
	    "(master) set_tag / set_label per peer (ip=) in the msglog and dumps; reload: SIGUSR2"),
	G("bgp_daemon_add_path_ignore", NULL, CT_BOOL, bgp.add_path_ignore, 0, "false",
	    "do not offer ADD-PATH receive (master)"),
	G("bgp_disable_router_id_check", NULL, CT_BOOL, bgp.disable_router_id_check, 0, "false",
	    "accept a Router-ID already in use by another session"),
	G("bgp_neighbors_file", NULL, CT_STR, bgp.neighbors_file, 0, NULL,
	    "file listing the established BGP neighbours, one per line"),
	G("bgp_daemon_msglog_file", NULL, CT_STR, bgp.msglog_file, 0, NULL,
	    "BGP messages logged as JSON lines ($peer_src_ip, $peer_tcp_port)"),
	G("bgp_daemon_msglog_output", NULL, CT_STR, bgp.msglog_output, 0, "json",
	    "msglog format: json only (avro, avro_json refused)"),
	G("bgp_daemon_msglog_kafka_topic", NULL, CT_STR, bgp.msglog_kafka_topic, 0, NULL, "msglog Kafka topic"),
	G("bgp_daemon_msglog_kafka_broker_host", NULL, CT_STR, bgp.msglog_kafka_broker_host, 0, NULL,
	    "msglog Kafka broker, default 127.0.0.1"),
	G("bgp_daemon_msglog_kafka_broker_port", NULL, CT_PORT, bgp.msglog_kafka_broker_port, 0, "9092",
	    "msglog Kafka broker port"),
	G("bgp_daemon_msglog_kafka_config_file", NULL, CT_STR, bgp.msglog_kafka_config_file, 0, NULL,
	    "msglog librdkafka settings file"),
	G("bgp_daemon_msglog_amqp_routing_key", NULL, CT_STR, bgp.msglog_amqp_routing_key, 0, NULL,
	    "msglog AMQP routing key"),
	G("bgp_daemon_msglog_amqp_host", NULL, CT_STR, bgp.msglog_amqp_host, 0, NULL, "msglog AMQP broker"),
	G("bgp_daemon_msglog_amqp_user", NULL, CT_STR, bgp.msglog_amqp_user, 0, NULL, "msglog AMQP user"),
	G("bgp_daemon_msglog_amqp_passwd", NULL, CT_STR, bgp.msglog_amqp_passwd, 0, NULL, "msglog AMQP password"),
	G("bgp_daemon_msglog_amqp_exchange", NULL, CT_STR, bgp.msglog_amqp_exchange, 0, NULL,
	    "msglog AMQP exchange"),
	G("bgp_daemon_msglog_amqp_vhost", NULL, CT_STR, bgp.msglog_amqp_vhost, 0, NULL, "msglog AMQP vhost"),
	G("bgp_table_dump_file", NULL, CT_STR, bgp.dump_file, 0, NULL,
	    "BGP tables dumped as JSON lines (%Y.. and $peer_src_ip)"),
	G("bgp_table_dump_output", NULL, CT_STR, bgp.dump_output, 0, "json",
	    "dump format: json only (avro, avro_json refused)"),
	GX("bgp_table_dump_refresh_time", NULL, bgp.dump_refresh_time, 0, 86400, "0",
	    "seconds between table dumps (60..86400); under 60 ignored, no dumps (1.7.7)"),
	G("bgp_table_dump_latest_file", NULL, CT_STR, bgp.dump_latest_file, 0, NULL,
	    "symlink to the latest dump file"),
	G("bgp_table_dump_kafka_topic", NULL, CT_STR, bgp.dump_kafka_topic, 0, NULL, "dump Kafka topic"),
	G("bgp_table_dump_kafka_broker_host", NULL, CT_STR, bgp.dump_kafka_broker_host, 0, NULL,
	    "dump Kafka broker, default 127.0.0.1"),
	G("bgp_table_dump_kafka_broker_port", NULL, CT_PORT, bgp.dump_kafka_broker_port, 0, "9092",
	    "dump Kafka broker port"),
	G("bgp_table_dump_kafka_config_file", NULL, CT_STR, bgp.dump_kafka_config_file, 0, NULL,
	    "dump librdkafka settings file"),
	G("bgp_table_dump_amqp_routing_key", NULL, CT_STR, bgp.dump_amqp_routing_key, 0, NULL,
	    "dump AMQP routing key"),
	G("bgp_table_dump_amqp_host", NULL, CT_STR, bgp.dump_amqp_host, 0, NULL, "dump AMQP broker"),
	G("bgp_table_dump_amqp_user", NULL, CT_STR, bgp.dump_amqp_user, 0, NULL, "dump AMQP user"),
	G("bgp_table_dump_amqp_passwd", NULL, CT_STR, bgp.dump_amqp_passwd, 0, NULL, "dump AMQP password"),
	G("bgp_table_dump_amqp_exchange", NULL, CT_STR, bgp.dump_amqp_exchange, 0, NULL, "dump AMQP exchange"),
	G("bgp_table_dump_amqp_vhost", NULL, CT_STR, bgp.dump_amqp_vhost, 0, NULL, "dump AMQP vhost"),
	G("bgp_table_dump_workers", NULL, CT_UINT, bgp.dump_workers, 1, "1",
	    "pmacct's dump threads: accepted, no effect (one dump thread)"),
	G("bgp_agent_map", NULL, CT_STR, bgp.agent_map, 0, NULL,
	    "BGP peer (bgp_ip) of each exporter/agent (ip, filter); reload: SIGUSR2"),
	G("bgp_follow_default", NULL, CT_UINT, bgp.follow_default, 0, "0",
	    "default routes followed to other peers to resolve a prefix"),
	G("bgp_follow_nexthop", NULL, CT_STR, bgp.follow_nexthop, 0, NULL,
	    "prefixes (up to 32, comma separated) whose next hops are followed for peer_dst_ip"),
	G("bgp_follow_nexthop_external", NULL, CT_BOOL, bgp.follow_nexthop_external, 0, "false",
	    "bgp_follow_nexthop returns the last node's own next hop"),
	G("bgp_aspath_radius", NULL, CT_UINT, bgp.aspath_radius, 0, "0", "AS paths cut to this many hops, 0 = whole"),
	G("bgp_stdcomm_pattern", NULL, CT_STR, bgp.stdcomm_pattern, 0, NULL,
	    "standard communities kept: substring patterns, '.' any character, comma separated"),
	G("bgp_extcomm_pattern", NULL, CT_STR, bgp.extcomm_pattern, 0, NULL, "extended communities kept"),
	G("bgp_lrgcomm_pattern", NULL, CT_STR, bgp.lrgcomm_pattern, 0, NULL, "large communities kept"),
	G("bgp_stdcomm_pattern_to_asn", NULL, CT_STR, bgp.stdcomm_pattern_to_asn, 0, NULL,
	    "first matching standard community A:B gives peer AS A and origin AS B"),
	G("bgp_lrgcomm_pattern_to_asn", NULL, CT_STR, bgp.lrgcomm_pattern_to_asn, 0, NULL,
	    "first matching large community A:B:C gives peer AS A and origin AS B"),
	G("bgp_peer_as_skip_subas", NULL, CT_BOOL, bgp.peer_as_skip_subas, 0, "false",
	    "peer AS skips confederation sub-ASes"),
	G("bgp_peer_src_as_type", NULL, CT_STR, bgp.peer_src_as_type, 0, NULL,
	    "source of peer_src_as: netflow, sflow (default), map, bgp"),
	G("bgp_peer_src_as_map", NULL, CT_STR, bgp.peer_src_as_map, 0, NULL,
	    "peer_src_as by interface, source MAC, BGP next hop"),
	G("bgp_src_std_comm_type", NULL, CT_STR, bgp.src_std_comm_type, 0, NULL, "src_std_comm from: bgp"),
	G("bgp_src_ext_comm_type", NULL, CT_STR, bgp.src_ext_comm_type, 0, NULL, "src_ext_comm from: bgp"),
	G("bgp_src_lrg_comm_type", NULL, CT_STR, bgp.src_lrg_comm_type, 0, NULL, "src_lrg_comm from: bgp"),
	G("bgp_src_as_path_type", NULL, CT_STR, bgp.src_as_path_type, 0, NULL, "src_as_path from: bgp"),
	G("bgp_src_local_pref_type", NULL, CT_STR, bgp.src_local_pref_type, 0, NULL,
	    "src_local_pref from: map, bgp"),
	G("bgp_src_local_pref_map", NULL, CT_STR, bgp.src_local_pref_map, 0, NULL,
	    "src_local_pref by interface, source MAC, BGP next hop"),
	G("bgp_src_med_type", NULL, CT_STR, bgp.src_med_type, 0, NULL, "src_med from: map, bgp"),
	G("bgp_src_med_map", NULL, CT_STR, bgp.src_med_map, 0, NULL, "src_med by interface, source MAC, BGP next hop"),
	GX("bgp_table_peer_buckets", NULL, bgp.table_peer_buckets, 1, 1000, "13",
	    "pmacct's peer hash size: accepted, the RIB sizes itself"),
	GX("bgp_table_per_peer_buckets", NULL, bgp.table_per_peer_buckets, 1, 128, "1",
	    "pmacct's per-peer hash size: accepted, the RIB sizes itself"),
	GX("bgp_table_attr_hash_buckets", NULL, bgp.table_attr_hash_buckets, 1, 1000000, "65535",
	    "pmacct's attribute hash size: accepted, the RIB sizes itself"),
	G("bgp_table_per_peer_hash", NULL, CT_STR, bgp.table_per_peer_hash, 0, "path_id",
	    "pmacct's per-peer hash: path_id (accepted)"),
	G("bgp_table_max_memory", NULL, CT_SIZE, bgp.rib_max_bytes, 0, "0",
	    "ours: bytes of routes and attributes held, 0 = unbounded (table bgp_rib, refuse)"),
	G("bgp_src_roa_type", NULL, CT_STR, bgp.src_roa_type, 0, NULL, "src_roa from: bgp"),
	G("rpki_roas_file", NULL, CT_STR, bgp.rpki_roas_file, 0, NULL,
	    "ROAs, JSON (RIPE validator / rpki-client export); reload: SIGUSR2"),
	G("rpki_rtr_cache", NULL, CT_STR, bgp.rpki_rtr_cache, 0, NULL,
	    "RPKI-to-Router cache to connect to: address:port, [IPv6 address]:port"),
	GX("rpki_rtr_cache_version", NULL, bgp.rpki_rtr_cache_version, 0, 1, "0",
	    "RTR protocol version: 0 (RFC 6810), 1 (RFC 8210)"),
	G("rpki_rtr_cache_pipe_size", NULL, CT_SIZE, bgp.rpki_rtr_cache_pipe_size, 0, "0",
	    "RTR socket's SO_RCVBUF, 0 = OS default"),
	GX("rpki_rtr_cache_ipprec", NULL, bgp.rpki_rtr_cache_ipprec, 0, 7, "0",
	    "IP precedence of the RTR messages sent"),
	GR("bmp_daemon", NULL, "BMP thread"),
	GR("bmp_daemon_ip", NULL, "BMP bind address"),
	GR("bmp_daemon_port", NULL, "BMP port"),
	GR("isis_daemon", NULL, "IS-IS thread"),
	G("geoipv2_file", NULL, CT_STR, geoipv2_file, 0, NULL,
	    "MaxMind DB (GeoLite2/GeoIP2 City) for *_host_country, *_host_pocode, *_host_coords; reloaded on SIGUSR2"),
	P("writer_id_string", NULL, CT_TEXT, writer_id_string, 0, NULL,
	    "writer_id field of JSON markers"),
	PR("plugin_pipe_zmq", NULL, "ZeroMQ queue instead of the ring"),
	PR("plugin_pipe_zmq_profile", NULL, "ZeroMQ buffering profile"),
	PR("plugin_pipe_zmq_hwm", NULL, "ZeroMQ high-water mark"),
	PR("plugin_pipe_zmq_retry", NULL, "ZeroMQ reconnect interval"),
	PR("imt_passwd", NULL, "client password (removed in 1.7.9)"),
	PR("print_output_lock_file", NULL, "lock serialising writers"),
	PR("print_max_writers", SQLK("max_writers"), "concurrent writers (10)"),
	PR("print_preprocess", SQLK("preprocess"), "purge-time checks"),
	PR("print_preprocess_type", SQLK("preprocess_type"), "any | all"),
	PR("print_output_custom_lib", NULL, "custom output library"),
	PR("print_output_custom_cfg_file", NULL, "custom output library config"),
	P("sql_db", "amqp_exchange", CT_STR, sql_db, 0, NULL,
	    "database (default pmacct; sqlite3: file, default /tmp/pmacct.db)"),
	P("sql_table", NULL, CT_STR, sql_table, 0, NULL,
	    "table name template (%Y.. and $ variables); default acct / acct_vN / acct_bgp"),
	P("sql_table_schema", NULL, CT_STR, sql_table_schema, 0, NULL,
	    "CREATE TABLE file for missing (dynamic) tables"),
	PX("sql_table_version", NULL, sql_table_version, 1, 9, NULL, "default schema version 1..9 (1)"),
	P("sql_table_type", NULL, CT_NAME, sql_table_type, 0, NULL, "original | bgp"),
	P("sql_host", NULL, CT_STR, sql_host, 0, NULL, "database server, or unix:/path (localhost)"),
	P("sql_port", NULL, CT_PORT, sql_port, 1, NULL, "database port (3306, 5432)"),
	PR("sql_data", NULL, "typed | unified (pgsql)"),
	P("sql_user", NULL, CT_STR, sql_user, 0, NULL, "database user (pmacct)"),
	P("sql_passwd", NULL, CT_STR, sql_passwd, 0, NULL, "database password (arealsmartpwd); never logged"),
	P("sql_conn_ca_file", NULL, CT_STR, sql_conn_ca_file, 0, NULL, "TLS CA file (pgsql, mysql)"),
	P("sql_optimize_clauses", NULL, CT_BOOL, sql_optimize_clauses, 0, NULL,
	    "only selected primitives in statements (custom tables)"),
	P("sql_recovery_backup_host", "sql_backup_host", CT_STR, sql_backup_host, 0, NULL,
	    "backup database host (sqlite3: file) used while the primary fails"),
	PR("sql_recovery_logfile", NULL, "recovery log (0.11)"),
	P("sql_delimiter", NULL, CT_SEP, sql_delimiter, 0, NULL, "COPY delimiter (,)"),
	PR("sql_trigger_time", NULL, "trigger interval"),
	P("sql_cache_entries", NULL, CT_UINT, sql_cache_entries, 1, NULL,
	    "SQL cache buckets (32771): the cache holds at most this + sql_refresh_time x 100 entries, then purges early"),
	P("sql_dont_try_update", NULL, CT_BOOL, sql_dont_try_update, 0, NULL, "INSERT only"),
	P("sql_multi_values", "kafka_multi_values amqp_multi_values", CT_UINT, sql_multi_values, 0, NULL,
	    "multi-row INSERT bytes (mysql, sqlite3)"),
	PR("sql_locking_style", NULL, "table | row | none"),
	P("sql_use_copy", NULL, CT_BOOL, sql_use_copy, 0, NULL, "PostgreSQL COPY (with sql_dont_try_update)"),
	P("sql_spool_file", NULL, CT_STR, sql_spool_file, 0, NULL,
	    "file the cache spills to while the database is down (default in /tmp)"),
	P("sql_spool_threshold", NULL, CT_UINT, sql_spool_threshold, 0, NULL,
	    "entries kept in memory while the database is down, then spooled to disk (the cache ceiling)"),
	PR("sql_num_hosts", NULL, "numeric IP addresses"),
	P("sql_purge_table", NULL, CT_TEXT, sql_purge_table, 0, NULL,
	    "purge-id bookkeeping table (pmacct_purges); none: off"),
	PR("sql_aggressive_classification", NULL, "reserved (0.11)"),
	/* kafka / amqp: amqp_exchange is sql_db and *_multi_values sql_multi_values, as pmacct */
	P("kafka_broker_host", "amqp_host", CT_STR, broker_host, 0, NULL,
	    "broker host (kafka 127.0.0.1, amqp localhost)"),
	P("kafka_broker_port", "amqp_port", CT_PORT, broker_port, 1, NULL,
	    "broker port (kafka 9092, amqp 5672); amqp_port is ours"),
	P("kafka_topic", "amqp_routing_key", CT_STR, broker_topic, 0, NULL,
	    "topic / routing key with $ variables (pmacct.acct, acct)"),
	PR("kafka_topic_rr", NULL, "round-robin topics"),
	P("kafka_partition", NULL, CT_STR, kafka_partition, 0, NULL, "Kafka partition, -1 = any (-1)"),
	PR("kafka_partition_dynamic", NULL, "dynamic partitioning"),
	P("kafka_partition_key", NULL, CT_STR, kafka_partition_key, 0, NULL,
	    "message key (partitioning), with $ variables"),
	P("kafka_output", "amqp_output", CT_TEXT, kafka_output, 0, NULL,
	    "json (avro, avro_json are not supported)"),
	PR("kafka_avro_schema_registry", NULL, "Avro schema registry"),
	P("kafka_config_file", NULL, CT_STR, kafka_config_file, 0, NULL,
	    "librdkafka settings: global|topic, key, value per line"),
	P("amqp_user", NULL, CT_STR, amqp_user, 0, NULL, "AMQP user (guest)"),
	P("amqp_passwd", NULL, CT_STR, amqp_passwd, 0, NULL, "AMQP password (guest); never logged"),
	P("amqp_exchange_type", NULL, CT_STR, amqp_exchange_type, 0, NULL, "AMQP exchange type (direct)"),
	PR("amqp_routing_key_rr", NULL, "round-robin routing keys"),
	P("amqp_persistent_msg", NULL, CT_BOOL, amqp_persistent_msg, 0, "false",
	    "persistent messages (delivery mode 2)"),
	PX("amqp_frame_max", NULL, amqp_frame_max, 1, INT32_MAX, NULL, "AMQP frame size (131072)"),
	P("amqp_heartbeat_interval", NULL, CT_UINT, amqp_heartbeat_interval, 0, NULL,
	    "AMQP heartbeat seconds, 0 = none"),
	P("amqp_vhost", NULL, CT_STR, amqp_vhost, 0, NULL, "AMQP virtual host (/)"),
	P("kafka_spool_file", "amqp_spool_file", CT_STR, broker_spool_file, 0, NULL,
	    "ours: file messages spill to past the in-memory bound (default in /tmp)"),
	P("kafka_queue_max", "amqp_queue_max", CT_UINT, broker_queue_max, 1, NULL,
	    "ours: undelivered messages kept in memory before spooling (100000)"),
	P("kafka_shutdown_wait", "amqp_shutdown_wait", CT_UINT, broker_shutdown_wait, 0, "10",
	    "ours: seconds shutdown waits for queued messages to be delivered"),
	PR("avro_buffer_size", NULL, "Avro buffer"),
	PR("avro_schema_file", "avro_schema_output_file", "Avro schema output"),
	/* nfprobe / sfprobe / tee (docs/probes.md) */
	P("nfprobe_receiver", NULL, CT_STR, nfprobe_receiver, 0, NULL,
	    "NetFlow/IPFIX collector host:port, [v6]:port (127.0.0.1:2100)"),
	P("nfprobe_version", NULL, CT_UINT, nfprobe_version, 5, "10", "5, 9 or 10 (IPFIX)"),
	P("nfprobe_timeouts", NULL, CT_STR, nfprobe_timeouts, 0, NULL,
	    "flow cache timeouts, seconds: tcp=3600:tcp.rst=120:tcp.fin=300:udp=300:icmp=300:"
	    "general=3600:maxlife=604800:expint=60"),
	P("nfprobe_maxflows", NULL, CT_UINT, nfprobe_maxflows, 1, "8192",
	    "flow cache size; the least recently seen flow is exported when full"),
	P("nfprobe_engine", NULL, CT_STR, nfprobe_engine, 0, NULL,
	    "v5 engine type:id; v9 source id / IPFIX observation domain (0)"),
	P("nfprobe_hoplimit", NULL, CT_UINT, nfprobe_hoplimit, 1, NULL, "TTL / hop limit of exports"),
	P("nfprobe_source_ip", NULL, CT_STR, nfprobe_source_ip, 0, NULL, "source address of exports"),
	P("nfprobe_ipprec", NULL, CT_UINT, nfprobe_ipprec, 0, NULL, "IP precedence of exports, 0-7"),
	P("nfprobe_direction", NULL, CT_STR, nfprobe_direction, 0, NULL,
	    "flow direction: in, out, tag, tag2 (1 = in, 2 = out)"),
	P("nfprobe_ifindex", NULL, CT_STR, nfprobe_ifindex, 0, NULL,
	    "interface index of flows: a number, tag or tag2"),
	PR("nfprobe_ifindex_override", NULL, "override interface index"),
	PR("nfprobe_peer_as", NULL, "export peer AS"),
	PR("nfprobe_dont_cache", NULL, "export every packet"),
	PR("nfprobe_tstamp_usec", NULL, "microsecond timestamps"),
	P("sfprobe_receiver", NULL, CT_STR, sfprobe_receiver, 0, NULL,
	    "sFlow collector host:port, [v6]:port (127.0.0.1:6343)"),
	P("sfprobe_agentip", NULL, CT_STR, sfprobe_agentip, 0, NULL, "sFlow agent address (127.0.0.1)"),
	P("sfprobe_source_ip", NULL, CT_STR, sfprobe_source_ip, 0, NULL, "source address of sFlow datagrams"),
	P("sfprobe_agentsubid", NULL, CT_UINT, sfprobe_agentsubid, 0, "1402", "sFlow sub-agent id"),
	P("sfprobe_ifspeed", NULL, CT_U64, sfprobe_ifspeed, 0, "100000000",
	    "interface speed in counter samples, bit/s"),
	P("sfprobe_direction", NULL, CT_STR, sfprobe_direction, 0, NULL,
	    "sample direction: in, out, tag, tag2"),
	P("sfprobe_ifindex", NULL, CT_STR, sfprobe_ifindex, 0, NULL,
	    "interface index of samples: a number, tag or tag2"),
	PR("sfprobe_ifindex_override", NULL, "override interface index"),
	P("tee_receivers", NULL, CT_STR, tee_receivers, 0, NULL,
	    "receiver pools map: id=N ip=host:port[,...] [tag=..] [balance-alg=rr|hash-agent|hash-tag|hash-crc32]"),
	P("tee_transparent", NULL, CT_BOOL, tee_transparent, 0, "false",
	    "keep the exporter's source address (raw socket, CAP_NET_RAW)"),
	P("tee_source_ip", NULL, CT_STR, tee_source_ip, 0, NULL, "source address of replicated datagrams"),
	P("tee_pipe_size", NULL, CT_SIZE, tee_pipe_size, 0, NULL, "send socket buffer (SO_SNDBUF)"),
	P("tee_max_receivers", NULL, CT_UINT, tee_max_receivers, 1, "32", "receivers per pool"),
	P("tee_max_receiver_pools", NULL, CT_UINT, tee_max_receiver_pools, 1, "128", "receiver pools"),
	PR("tee_dissect_send_full_pkt", NULL, "send the full datagram"),
};

const size_t cfg_nkeys = NELEM(cfg_keys);

/* True if `name` is one of the space-separated words of `list`. */
static bool word_in(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list && *list) {
		const char *e = strchr(list, ' ');
		size_t len = e ? (size_t)(e - list) : strlen(list);
		if (len == n && strncmp(list, name, n) == 0)
			return true;
		list = e ? e + 1 : NULL;
	}
	return false;
}

const struct cfg_key *cfg_key_lookup(const char *name)
{
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (word_in(cfg_keys[i].aliases, name))
			return &cfg_keys[i];
	return NULL;
}

/* ---- generic handlers, one per type ---- */

static const char *const output_names[] = {
	[OUT_FORMATTED] = "formatted", [OUT_CSV] = "csv", [OUT_JSON] = "json",
	[OUT_EVENT_FORMATTED] = "event_formatted", [OUT_EVENT_CSV] = "event_csv",
};

/* Outputs pmacct knows that this implementation does not write (yet). */
static const char *const output_unsupported[] = { "avro", "avro_json", "custom" };

static const char *const facilities[] = {
	"auth", "mail", "daemon", "kern", "user", "local0", "local1", "local2", "local3",
	"local4", "local5", "local6", "local7",
};

static void *field(const struct cfg_key *k, void *base)
{
	return (char *)base + k->off;
}

static const void *cfield(const struct cfg_key *k, const void *base)
{
	return (const char *)base + k->off;
}

/* Digits only (pmacct rejects signs, spaces, suffixes); 0 or -1. */
static int parse_u64(const char *v, uint64_t max, uint64_t *out, char *why, size_t wlen)
{
	char *end;

	if (!*v || strspn(v, "0123456789") != strlen(v)) {
		snprintf(why, wlen, "'%s' is not a non-negative integer", v);
		return -1;
	}
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || x > max) {
		snprintf(why, wlen, "'%s' is too large (max %" PRIu64 ")", v, max);
		return -1;
	}
	*out = x;
	return 0;
}

static int set_number(const struct cfg_key *k, void *f, const char *v, char *why, size_t wlen)
{
	uint64_t x, max = k->type == CT_U64 ? UINT64_MAX : k->type == CT_SIZE ? SIZE_MAX
	    : k->type == CT_INT ? INT32_MAX : UINT32_MAX;
	uint32_t lo = k->type == CT_PORT ? 1 : k->min;
	uint32_t hi = k->type == CT_PORT ? 65535 : k->max;

	if (parse_u64(v, max, &x, why, wlen) < 0)
		return -1;
	if (hi && (x < lo || x > hi)) {
		snprintf(why, wlen, "'%s' is out of range (%" PRIu32 "..%" PRIu32 ")", v, lo, hi);
		return -1;
	}
	if (x < lo) {
		snprintf(why, wlen, "must be >= %" PRIu32, lo);
		return -1;
	}
	switch (k->type) {
	case CT_UINT: case CT_PORT: *(uint32_t *)f = (uint32_t)x; break;
	case CT_U64: *(uint64_t *)f = x; break;
	case CT_INT: *(int32_t *)f = (int32_t)x; break;
	default: *(size_t *)f = (size_t)x; break;
	}
	return 0;
}

/* File permissions, octal as chmod takes them ("0660", "660"). */
static int set_mode(uint32_t *f, const char *v, char *why, size_t wlen)
{
	char *end;
	unsigned long m = strtoul(v, &end, 8);

	if (*end || m > 07777) {
		snprintf(why, wlen, "'%s' is not an octal file mode", v);
		return -1;
	}
	*f = (uint32_t)m;
	return 0;
}

static int set_bool(bool *f, const char *v, char *why, size_t wlen)
{
	if (strcasecmp(v, "true") == 0)
		*f = true;
	else if (strcasecmp(v, "false") == 0)
		*f = false;
	else {
		snprintf(why, wlen, "'%s' is not true or false", v);
		return -1;
	}
	return 0;
}

static int set_output(enum print_fmt *f, const char *v, char *why, size_t wlen)
{
	for (size_t i = 0; i < NELEM(output_names); i++) {
		if (strcasecmp(v, output_names[i]) == 0) {
			*f = (enum print_fmt)i;
			return 0;
		}
	}
	for (size_t i = 0; i < NELEM(output_unsupported); i++) {
		if (strcasecmp(v, output_unsupported[i]) == 0) {
			snprintf(why, wlen, "output '%s' is not supported", v);
			return -1;
		}
	}
	snprintf(why, wlen, "unknown output '%s' (formatted, csv, json, event_formatted, event_csv)", v);
	return -1;
}

/*
 * COMPAT 7.3: N[m|h|d|w|M]; a bare number (or N s) is seconds and must be a
 * multiple of 60, stored as minutes.  Months count nominally 30 days in secs.
 */
static int set_period(struct cfg_period *f, const char *v, char *why, size_t wlen)
{
	static const struct { char unit; uint32_t secs; } units[] = {
		{ 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 }, { 'M', 2592000 },
	};
	size_t nd = strspn(v, "0123456789");
	char unit = v[nd];
	uint64_t n;
	char num[24];

	if (nd == 0 || nd >= sizeof(num) || (unit && v[nd + 1])) {
		snprintf(why, wlen, "'%s' is not N[m|h|d|w|M]", v);
		return -1;
	}
	memcpy(num, v, nd);
	num[nd] = '\0';
	if (parse_u64(num, UINT32_MAX, &n, why, wlen) < 0)
		return -1;
	if (n == 0) {
		snprintf(why, wlen, "a time-bin must be > 0");
		return -1;
	}
	if (unit == '\0' || unit == 's') {
		if (n % 60) {
			snprintf(why, wlen, "%" PRIu64 " seconds is not a multiple of 60", n);
			return -1;
		}
		n /= 60;
		unit = 'm';
	}
	for (size_t i = 0; i < NELEM(units); i++) {
		if (units[i].unit == unit) {
			if (n * units[i].secs > UINT32_MAX) {
				snprintf(why, wlen, "'%s' is too long", v);
				return -1;
			}
			f->n = (uint32_t)n;
			f->unit = unit;
			f->secs = (uint32_t)(n * units[i].secs);
			return 0;
		}
	}
	snprintf(why, wlen, "unknown time unit '%c' (m h d w M)", unit);
	return -1;
}

static int set_roundoff(char *f, size_t size, const char *v, char *why, size_t wlen)
{
	for (const char *p = v; *p; p++) {
		if (!strchr("mhdwM", *p) || strchr(p + 1, *p)) {
			snprintf(why, wlen, "'%s': letters m h d w M, each once", v);
			return -1;
		}
	}
	if (strchr(v, 'd') && strchr(v, 'w')) {
		snprintf(why, wlen, "'d' and 'w' are mutually exclusive");
		return -1;
	}
	snprintf(f, size, "%s", v);
	return 0;
}

static int set_sep(char *f, size_t size, const char *v, char *why, size_t wlen)
{
	if (strcmp(v, "\\t") == 0)
		v = "\t";
	else if (strcmp(v, "\\s") == 0)
		v = " ";
	if (strlen(v) != 1 || size < 2) {
		snprintf(why, wlen, "'%s': only one character allowed (or \\t, \\s)", v);
		return -1;
	}
	snprintf(f, size, "%s", v);
	return 0;
}

static int set_facility(char **f, const char *v, char *why, size_t wlen)
{
	for (size_t i = 0; i < NELEM(facilities); i++) {
		if (strcasecmp(v, facilities[i]) == 0) {
			free(*f);
			*f = xstrdup(facilities[i]);
			return 0;
		}
	}
	snprintf(why, wlen, "unknown syslog facility '%s' (auth mail daemon kern user local0-7)", v);
	return -1;
}

/* An aggregate list of the plugin's configuration (its prims: the custom names it may use). */
static int set_agg(const struct plugin_cfg *pc, struct prim_set *f, const char *v, char *why,
    size_t wlen)
{
	char bad[PRIM_WORD_MAX];
	const char *rep;
	struct prim_set s;

	if (prim_parse_list(pc->prims, v, &s, bad, sizeof(bad)) < 0) {
		snprintf(why, wlen, "Unknown primitive '%s'", bad);
		return -1;
	}
	if (prim_set_empty(&s)) {
		snprintf(why, wlen, "empty aggregate list");
		return -1;
	}
	if ((rep = prim_list_repeat(pc->prims, v))) {
		snprintf(why, wlen, "'%s' repeated in the list (as pmacct, refused)", rep);
		return -1;
	}
	*f = s;
	return 0;
}

void cfg_extra_set(struct cfg_extra *e, const char *key, const char *v)
{
	for (int i = 0; i < e->n; i++) {
		if (strcmp(e->kv[i].key, key) == 0) {
			free(e->kv[i].value);
			e->kv[i].value = xstrdup(v);
			return;
		}
	}
	e->kv = xrealloc(e->kv, (size_t)(e->n + 1) * sizeof(*e->kv));
	e->kv[e->n].key = xstrdup(key);
	e->kv[e->n].value = xstrdup(v);
	e->n++;
}

void cfg_extra_free(struct cfg_extra *e)
{
	for (int i = 0; i < e->n; i++) {
		free(e->kv[i].key);
		free(e->kv[i].value);
	}
	free(e->kv);
	e->kv = NULL;
	e->n = 0;
}

const char *cfg_extra_get(const struct cfg_extra *e, const char *key)
{
	for (int i = 0; e && i < e->n; i++)
		if (strcmp(e->kv[i].key, key) == 0)
			return e->kv[i].value;
	return NULL;
}

static const char *const tun_names[] = {
	[CFG_TUN_GTP] = "gtp", [CFG_TUN_VXLAN] = "vxlan", [CFG_TUN_GRE] = "gre", [CFG_TUN_IPIP] = "ipip",
};

/* One tunnel_0 entry, "<proto>[, <port>]" (spaces trimmed). */
static int set_tunnel_entry(struct cfg_tunnel *t, char *e, char *why, size_t wlen)
{
	char *comma = strchr(e, ',');
	char *name = e, *port = NULL;
	unsigned long pv = 0;
	int proto = 0;

	if (comma) {
		*comma = '\0';
		port = text_trim(comma + 1);
	}
	name = text_trim(name);
	for (size_t i = 1; i < NELEM(tun_names); i++)
		if (strcasecmp(name, tun_names[i]) == 0)
			proto = (int)i;
	if (!proto) {
		snprintf(why, wlen, "unknown tunnel protocol '%s' (gtp, vxlan, gre, ipip)", name);
		return -1;
	}
	if (port) {
		char *end;
		errno = 0;
		pv = strtoul(port, &end, 10);
		if (!*port || *end || errno || pv == 0 || pv > 65535 || !isdigit((unsigned char)*port)) {
			snprintf(why, wlen, "'%s': bad UDP port '%s'", name, port);
			return -1;
		}
		if (proto == CFG_TUN_GRE || proto == CFG_TUN_IPIP) {
			snprintf(why, wlen, "'%s' takes no port", name);
			return -1;
		}
	} else if (proto == CFG_TUN_GTP) {
		snprintf(why, wlen, "'gtp' needs its UDP port (gtp, <port>)");
		return -1;
	} else if (proto == CFG_TUN_VXLAN) {
		pv = 4789;
	}
	if (t->n == CFG_TUN_MAX) {
		snprintf(why, wlen, "more than %d tunnels", CFG_TUN_MAX);
		return -1;
	}
	t->e[t->n].proto = (uint8_t)proto;
	t->e[t->n].port = (uint16_t)pv;
	t->n++;
	return 0;
}

/* tunnel_0: entries separated by ';'. */
static int set_tunnel(struct cfg_tunnel *t, const char *v, char *why, size_t wlen)
{
	struct cfg_tunnel nt = { 0 };
	char *copy = xstrdup(v), *save = NULL;
	int rc = 0;

	for (char *e = strtok_r(copy, ";", &save); e && rc == 0; e = strtok_r(NULL, ";", &save))
		rc = set_tunnel_entry(&nt, e, why, wlen);
	free(copy);
	if (rc == 0 && nt.n == 0) {
		snprintf(why, wlen, "no tunnel protocol");
		rc = -1;
	}
	if (rc == 0)
		*t = nt;
	return rc;
}

int cfg_key_set(const struct cfg_key *k, void *base, const char *v, char *why, size_t wlen)
{
	void *f = field(k, base);

	if (!*v && k->type != CT_RAW && k->type != CT_TEXT) {
		snprintf(why, wlen, "missing value");
		return -1;
	}
	switch (k->type) {
	case CT_BOOL:
		return set_bool(f, v, why, wlen);
	case CT_UINT: case CT_PORT: case CT_U64: case CT_INT: case CT_SIZE:
		return set_number(k, f, v, why, wlen);
	case CT_MODE:
		return set_mode(f, v, why, wlen);
	case CT_STR: case CT_TEXT:
		free(*(char **)f);
		*(char **)f = xstrdup(v);
		return 0;
	case CT_NAME:
		if (strlen(v) >= k->size) {
			snprintf(why, wlen, "longer than %u characters", (unsigned)k->size - 1);
			return -1;
		}
		snprintf(f, k->size, "%s", v);
		return 0;
	case CT_OUTPUT:
		return set_output(f, v, why, wlen);
	case CT_AGG:	/* plugin scope: base is the plugin_cfg, f its aggregate */
		return set_agg(base, f, v, why, wlen);
	case CT_PERIOD:
		return set_period(f, v, why, wlen);
	case CT_ROUNDOFF:
		return set_roundoff(f, k->size, v, why, wlen);
	case CT_SEP:
		return set_sep(f, k->size, v, why, wlen);
	case CT_FACILITY:
		return set_facility(f, v, why, wlen);
	case CT_TUNNEL:
		return set_tunnel(f, v, why, wlen);
	case CT_RAW:
		cfg_extra_set(f, k->name, v);
		return 0;
	case CT_PLUGINS:
		break;
	}
	snprintf(why, wlen, "handled by the parser");
	return -1;
}

void cfg_key_str(const struct cfg_key *k, const void *base, char *buf, size_t len)
{
	const void *f = cfield(k, base);
	const char *s;

	buf[0] = '\0';
	switch (k->type) {
	case CT_BOOL: snprintf(buf, len, "%s", *(const bool *)f ? "true" : "false"); break;
	case CT_UINT: case CT_PORT: snprintf(buf, len, "%" PRIu32, *(const uint32_t *)f); break;
	case CT_MODE: snprintf(buf, len, "%04" PRIo32, *(const uint32_t *)f); break;
	case CT_U64: snprintf(buf, len, "%" PRIu64, *(const uint64_t *)f); break;
	case CT_INT: snprintf(buf, len, "%" PRId32, *(const int32_t *)f); break;
	case CT_SIZE: snprintf(buf, len, "%zu", *(const size_t *)f); break;
	case CT_STR: case CT_TEXT: case CT_FACILITY:
		s = *(char *const *)f;
		snprintf(buf, len, "%s", s ? s : "");
		break;
	case CT_NAME: case CT_ROUNDOFF: snprintf(buf, len, "%s", (const char *)f); break;
	case CT_SEP:
		s = f;
		snprintf(buf, len, "%s", strcmp(s, "\t") == 0 ? "\\t" : strcmp(s, " ") == 0 ? "\\s" : s);
		break;
	case CT_OUTPUT: snprintf(buf, len, "%s", output_names[*(const enum print_fmt *)f]); break;
	case CT_AGG: prim_set_str(((const struct plugin_cfg *)base)->prims, f, buf, len); break;
	case CT_PERIOD:
		if (((const struct cfg_period *)f)->n)
			snprintf(buf, len, "%" PRIu32 "%c", ((const struct cfg_period *)f)->n,
			    ((const struct cfg_period *)f)->unit);
		break;
	case CT_RAW:
		s = cfg_extra_get(f, k->name);
		snprintf(buf, len, "%s", s ? s : "");
		break;
	case CT_TUNNEL: {
		const struct cfg_tunnel *t = f;
		size_t o = 0;
		for (int i = 0; i < t->n && o < len; i++) {
			bool port = t->e[i].proto == CFG_TUN_GTP || t->e[i].proto == CFG_TUN_VXLAN;
			int n = port ? snprintf(buf + o, len - o, "%s%s, %u", i ? "; " : "",
			    tun_names[t->e[i].proto], t->e[i].port) :
			    snprintf(buf + o, len - o, "%s%s", i ? "; " : "", tun_names[t->e[i].proto]);
			if (n < 0)
				break;
			o += (size_t)n;
		}
		break;
	}
	case CT_PLUGINS: break;
	}
}

void cfg_key_free(const struct cfg_key *k, void *base)
{
	void *f = field(k, base);
	struct cfg_extra *e = f;

	switch (k->type) {
	case CT_STR: case CT_TEXT: case CT_FACILITY:
		free(*(char **)f);
		*(char **)f = NULL;
		break;
	case CT_RAW:
		for (int i = 0; i < e->n; i++) {
			free(e->kv[i].key);
			free(e->kv[i].value);
		}
		free(e->kv);
		e->kv = NULL;
		e->n = 0;
		break;
	default:
		break;
	}
}

void cfg_keys_defaults(bool global, void *base)
{
	char why[128];

	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		if ((k->scope == CFG_GLOBAL) != global || !k->def || k->type == CT_PLUGINS)
			continue;
		if (cfg_key_set(k, base, k->def, why, sizeof(why)) < 0)
			abort();	/* a default that does not parse is a bug in the table */
	}
}
