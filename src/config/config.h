/* SPDX-License-Identifier: BSD-3-Clause */
/* config.h: the parsed configuration of a daemon: core keys and one block per plugin. */
#ifndef CONFIG_CONFIG_H
#define CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/timefmt.h"
#include "model/prim.h"

#define CFG_NAME_MAX 64
#define CFG_MAX_PLUGINS 64

/* Which daemon is parsing: keys and flags differ slightly between them. */
enum cfg_daemon { CFG_PMACCTD, CFG_NFACCTD, CFG_SFACCTD };

/*
 * A list of `key: value` pairs by canonical key name, a key once (last
 * writer wins): the keys recognised but not implemented, kept as text
 * (CT_RAW rows of keys.c), and each key's origin ("file:line").
 */
struct cfg_kv {
	char *key;
	char *value;
};

struct cfg_extra {
	struct cfg_kv *kv;
	int n;
};

enum print_fmt {
	OUT_FORMATTED, OUT_CSV, OUT_JSON, OUT_EVENT_FORMATTED, OUT_EVENT_CSV,
};

/* Per-plugin settings.  Global lines write into every plugin (last writer wins). */
struct plugin_cfg {
	char name[CFG_NAME_MAX];	/* "default_print" when unnamed */
	char type[16];			/* memory, print, sqlite3, ... */

	struct prim_set aggregate;	/* default src_host */
	/* the configuration's primitives (core_cfg.prims), which aggregate names; NULL = built-ins */
	const struct prim_registry *prims;
	char *aggregate_filter;		/* BPF text or NULL */
	uint64_t post_tag, post_tag2;	/* 0 = unset */
	char *pre_tag_filter;		/* compiled in plugin.c (maps/tagfilter.h) */
	char *pre_tag2_filter;
	char *pre_tag_label_filter;	/* labels accepted (null = none, -x = not x) */
	uint32_t sampling_rate;		/* 0 = off */

	/* networks_file and friends (per plugin, as pmacct: no "Globalized" warning) */
	char *networks_file;		/* -n */
	uint32_t networks_mask;		/* static mask for *_net, 0 = none */
	bool networks_file_filter;	/* zero hosts outside every prefix */
	bool networks_file_no_lpm;	/* longest: a file match wins over the record */
	bool networks_no_mask_if_zero;	/* mask 0: the net is the whole address */
	char *pre_tag_map;		/* per plugin in pmacct 1.7.7; the core evaluates it */
	uint32_t maps_entries;		/* default 384 */
	uint32_t maps_row_len;		/* 0 = 288, what pmacct 1.7.7 really uses */
	char *ports_file;		/* per plugin in pmacct 1.7.7 (-t) */

	size_t pipe_size;		/* plugin_pipe_size, default 4096000 */
	size_t buffer_size;		/* plugin_buffer_size, 0 = daemon default */

	/* print plugin */
	uint32_t refresh_time;		/* print_refresh_time / sql_refresh_time, default 60 */
	enum print_fmt output;		/* print_output */
	char *output_file;		/* print_output_file or NULL (stdout) */
	bool output_file_append;	/* print_output_file_append */
	char *latest_file;		/* print_latest_file */
	bool markers;			/* print_markers */
	char output_separator[8];	/* print_output_separator, default "," (\t \s decoded) */
	bool num_protos;		/* print_num_protos */
	bool tcpflags_encode_as_array;	/* JSON tcp_flags as an array of flag names */
	bool mpls_label_stack_encode_as_array;	/* JSON mpls_label_stack as an array */
	bool fwd_status_encode_as_string;	/* JSON fwd_status as RFC 7270 text */
	bool label_encode_as_map;	/* pre_tag_label_encode_as_map: JSON label as {"k": "v"} */
	bool as_path_encode_as_array;	/* JSON as_path, as_path_src as arrays of ASN strings */
	bool bgp_comms_encode_as_array;	/* JSON comms, ecomms, lcomms (+ _src) as arrays of strings */
	uint32_t cache_entries;		/* print_cache_entries, default 16411 */
	struct cfg_period history;	/* print_history */
	char history_roundoff[8];	/* print_history_roundoff: letters of m h d w M */
	int32_t history_offset;		/* print_history_offset, seconds */
	char *trigger_exec;		/* print_trigger_exec */
	uint32_t startup_delay;		/* print_startup_delay */
	bool write_empty_file;		/* print_write_empty_file */
	char *pidfile;			/* derived: <pidfile>-<type>-<name> */

	/* memory plugin */
	char *imt_path;			/* default /tmp/collect.pipe */
	uint32_t imt_buckets;		/* default 32771 */
	uint32_t imt_mem_pools_number;	/* default 16 */
	uint32_t imt_mem_pools_size;	/* default 8192 */
	uint32_t imt_path_mode;		/* imt_path_mode: socket permissions (octal), 0 = 0660 */

	/* SQL plugins: sqlite3, pgsql, mysql; defaults resolved in plugins/sql.c */
	char *sql_db;			/* database (sqlite3: file), NULL = per backend */
	char *sql_table;		/* table name template, NULL = per version */
	char *sql_table_schema;		/* CREATE TABLE file for missing tables */
	uint32_t sql_table_version;	/* 1..9, 0 = unset (1) */
	char sql_table_type[16];	/* "" / original, or bgp */
	char *sql_host;			/* host, or unix:/path */
	uint32_t sql_port;		/* 0 = backend default */
	char *sql_user;
	char *sql_passwd;
	char *sql_conn_ca_file;
	bool sql_optimize_clauses;
	char *sql_backup_host;		/* sql_recovery_backup_host / sql_backup_host */
	uint32_t sql_cache_entries;	/* 0 = 32771 */
	bool sql_dont_try_update;
	uint32_t sql_multi_values;	/* bytes of a multi-row INSERT, 0 = off */
	bool sql_use_copy;
	char sql_delimiter[8];		/* COPY delimiter, "" = "," */
	char *sql_spool_file;		/* ours: where the cache spills while the database is down */
	uint32_t sql_spool_threshold;	/* ours: entries kept in memory before spilling, 0 = 1000000 */
	char *sql_purge_table;		/* purge-id bookkeeping table, NULL = pmacct_purges, ""/none = off */

	/* kafka / amqp plugins; NULL / 0 = the backend's default, resolved in plugins/ */
	char *broker_host;		/* kafka_broker_host / amqp_host */
	uint32_t broker_port;		/* kafka_broker_port / amqp_port (ours) */
	char *broker_topic;		/* kafka_topic / amqp_routing_key, with $ variables */
	char *kafka_partition;		/* -1 (any) or a partition number, checked in kafka.c */
	char *kafka_partition_key;
	char *kafka_config_file;		/* librdkafka properties: global|topic, key, value */
	char *amqp_vhost;
	char *amqp_user;
	char *amqp_passwd;
	char *amqp_exchange_type;
	bool amqp_persistent_msg;
	uint32_t amqp_heartbeat_interval;	/* seconds, 0 = none */
	uint32_t amqp_frame_max;		/* 0 = 131072 */
	char *broker_spool_file;		/* ours: where messages go past the in-memory bound */
	uint32_t broker_queue_max;		/* ours: messages kept in memory, 0 = 100000 */
	uint32_t broker_shutdown_wait;	/* ours: seconds shutdown waits for delivery, default 10 */
	char *kafka_output;		/* kafka_output / amqp_output: json only, checked in broker.c */
	char *writer_id_string;		/* JSON writer_id template ($proc_name ...), NULL = default */

	/* http plugin (docs/http.md) */
	char *http_listen;		/* [host:]port; a bare port binds loopback */
	char *http_token;		/* bearer token for the API, NULL = none (no writes) */
	uint32_t http_history;		/* seconds of totals kept per time bin */
	uint32_t http_history_bin;	/* seconds per bin */
	uint32_t http_max_entries;	/* bound of the plugin's table, 0 = unbounded */

	/* nfprobe / sfprobe / tee plugins (docs/probes.md); values checked in their init() */
	char *nfprobe_receiver;		/* host:port, NULL = 127.0.0.1:2100 */
	uint32_t nfprobe_version;	/* 5, 9 or 10 (default) */
	char *nfprobe_timeouts;		/* tcp=N:tcp.rst=N:...:expint=N */
	uint32_t nfprobe_maxflows;	/* flow cache size, default 8192 */
	char *nfprobe_engine;		/* type:id (v5), source id / ODID (v9, IPFIX) */
	char *nfprobe_source_ip;
	uint32_t nfprobe_hoplimit;	/* 0 = the system's */
	uint32_t nfprobe_ipprec;	/* IP precedence of exports, 0-7 */
	char *nfprobe_direction;	/* in, out, tag, tag2 */
	char *nfprobe_ifindex;		/* a number, tag or tag2 */
	char *sfprobe_receiver;		/* host:port, NULL = 127.0.0.1:6343 */
	char *sfprobe_agentip;		/* NULL = 127.0.0.1 */
	char *sfprobe_source_ip;
	uint32_t sfprobe_agentsubid;	/* default 1402 */
	uint64_t sfprobe_ifspeed;	/* default 100000000 */
	char *sfprobe_direction;	/* in, out, tag, tag2 */
	char *sfprobe_ifindex;		/* a number, tag or tag2 */
	char *tee_receivers;		/* map file of receiver pools */
	bool tee_transparent;		/* keep the original source address (raw socket) */
	char *tee_source_ip;
	size_t tee_pipe_size;		/* SO_SNDBUF, 0 = the system's */
	uint32_t tee_max_receivers;	/* per pool, default 32 */
	uint32_t tee_max_receiver_pools;	/* default 128 */

	struct cfg_extra extra;		/* per-plugin keys recognised, not implemented (CT_RAW) */
	struct cfg_extra origin;	/* key -> "file:line" of its effective value */
};

/* Core (global) settings. */
/*
 * The BGP daemon and the BGP enrichment of records (bgp_* keys, global).
 * Text keys are kept as written; their users parse them (and refuse bad
 * values naming the key) when the daemon starts or -T config runs.
 */
struct bgp_cfg {
	bool daemon;			/* bgp_daemon */
	char *ip;			/* bgp_daemon_ip, default all addresses */
	bool ipv6_only;			/* bgp_daemon_ipv6_only */
	char *id;			/* bgp_daemon_id: Router-ID (IPv4), default ip, else 1.2.3.4 */
	uint32_t as;			/* bgp_daemon_as, 0 = the peer's (iBGP) */
	uint32_t port;			/* bgp_daemon_port, default 179 */
	uint32_t ipprec;		/* bgp_daemon_ipprec: IP precedence 0-7 of what we send */
	uint32_t max_peers;		/* bgp_daemon_max_peers, default 4 (pmacct's effective one) */
	size_t pipe_size;		/* bgp_daemon_pipe_size: SO_RCVBUF, 0 = OS default */
	uint32_t batch, batch_interval;	/* bgp_daemon_batch, _batch_interval */
	char *allow_file;		/* bgp_daemon_allow_file */
	char *md5_file;			/* bgp_daemon_md5_file: "address, password" rows */
	char *tag_map;			/* bgp_daemon_tag_map (master) */
	bool add_path_ignore;		/* bgp_daemon_add_path_ignore (master) */
	bool disable_router_id_check;	/* bgp_disable_router_id_check */
	char *neighbors_file;		/* bgp_neighbors_file */
	/* logs and dumps */
	char *msglog_file;		/* bgp_daemon_msglog_file ($peer_src_ip, $peer_tcp_port) */
	char *msglog_output;		/* bgp_daemon_msglog_output: json */
	char *msglog_kafka_topic;	/* bgp_daemon_msglog_kafka_topic */
	char *msglog_kafka_broker_host;
	uint32_t msglog_kafka_broker_port;
	char *msglog_kafka_config_file;
	char *msglog_amqp_routing_key;	/* bgp_daemon_msglog_amqp_routing_key */
	char *msglog_amqp_host, *msglog_amqp_user, *msglog_amqp_passwd, *msglog_amqp_exchange,
	    *msglog_amqp_vhost;
	char *dump_file;		/* bgp_table_dump_file (%Y.. and $peer_src_ip) */
	char *dump_output;		/* bgp_table_dump_output: json */
	uint32_t dump_refresh_time;	/* bgp_table_dump_refresh_time, 0 = no dumps */
	char *dump_latest_file;		/* bgp_table_dump_latest_file */
	char *dump_kafka_topic;
	char *dump_kafka_broker_host;
	uint32_t dump_kafka_broker_port;
	char *dump_kafka_config_file;
	char *dump_amqp_routing_key;
	char *dump_amqp_host, *dump_amqp_user, *dump_amqp_passwd, *dump_amqp_exchange,
	    *dump_amqp_vhost;
	uint32_t dump_workers;		/* bgp_table_dump_workers */
	/* correlation of records with routes */
	char *agent_map;		/* bgp_agent_map */
	uint32_t follow_default;	/* bgp_follow_default: default routes followed */
	char *follow_nexthop;		/* bgp_follow_nexthop: prefixes, comma separated */
	bool follow_nexthop_external;	/* bgp_follow_nexthop_external */
	uint32_t aspath_radius;		/* bgp_aspath_radius, 0 = whole paths */
	char *stdcomm_pattern, *extcomm_pattern, *lrgcomm_pattern;
	char *stdcomm_pattern_to_asn, *lrgcomm_pattern_to_asn;
	bool peer_as_skip_subas;	/* bgp_peer_as_skip_subas */
	char *peer_src_as_type;		/* bgp_peer_src_as_type: netflow, sflow, map, bgp */
	char *peer_src_as_map;
	char *src_std_comm_type, *src_ext_comm_type, *src_lrg_comm_type, *src_as_path_type;
	char *src_local_pref_type, *src_med_type;	/* map or bgp */
	char *src_local_pref_map, *src_med_map;
	/* pmacct's hash tuning: accepted, our tables size themselves (docs/bgp.md) */
	uint32_t table_peer_buckets, table_per_peer_buckets, table_attr_hash_buckets;
	char *table_per_peer_hash;
	size_t rib_max_bytes;		/* ours: bgp_table_max_memory, 0 = unbounded */
	/* RPKI (pipeline/rpki.h): ROAs from a file or an RTR cache, src_roa / dst_roa */
	char *src_roa_type;		/* bgp_src_roa_type: bgp */
	char *rpki_roas_file;		/* rpki_roas_file: JSON (maps/roa.h) */
	char *rpki_rtr_cache;		/* rpki_rtr_cache: address:port, [v6 address]:port */
	uint32_t rpki_rtr_cache_version;	/* 0 (RFC 6810) or 1 (RFC 8210) */
	size_t rpki_rtr_cache_pipe_size;	/* SO_RCVBUF, 0 = OS default */
	uint32_t rpki_rtr_cache_ipprec;	/* IP precedence 0-7 of what we send */
};

/* tunnel_0's protocols: pmacct's gtp, and ours. */
enum cfg_tun_proto { CFG_TUN_GTP = 1, CFG_TUN_VXLAN, CFG_TUN_GRE, CFG_TUN_IPIP };

/* tunnel_0 entries, at most (pmacct: 4 layers). */
#define CFG_TUN_MAX 4

/* tunnel_0: n entries "<proto>[, <port>]" (gtp needs a port, vxlan 4789 by default). */
struct cfg_tunnel {
	uint8_t n;
	struct {
		uint8_t proto;	/* enum cfg_tun_proto */
		uint16_t port;
	} e[CFG_TUN_MAX];
};

struct core_cfg {
	enum cfg_daemon daemon;
	char *config_file;		/* path given with -f, NULL if none */
	bool check_only;		/* -T config: set up filters and maps, open nothing, exit */

	bool debug;
	bool daemonize;
	char *pidfile;
	char *syslog;			/* facility name or NULL */
	char *logfile;
	char core_proc_name[CFG_NAME_MAX];	/* default "default" */

	/* capture (pmacctd) */
	char *pcap_interface;		/* pcap_interface / interface / -i */
	bool pcap_interface_wait;	/* -w / interface_wait */
	char *pcap_savefile;		/* -I / pcap_savefile */
	bool pcap_savefile_wait;	/* -W / savefile_wait */
	uint32_t pcap_savefile_delay;	/* -Z seconds */
	uint32_t pcap_savefile_replay;	/* -Y times, 0 = once */
	bool promisc;			/* default true */
	uint32_t snaplen;		/* default 128 */
	char *pcap_interfaces_map;	/* interfaces, ifindex, direction (maps/pcap_ifmap.h) */
	char pcap_ifindex[8];		/* none | sys | hash | map */
	char pcap_direction[8];		/* "" | in | out (uacctd_direction) */
	char *pcap_filter;
	bool nonroot;			/* pmacctd_nonroot */
	bool force_frag_handling;	/* pmacctd_force_frag_handling */
	uint32_t flow_lifetime;		/* pmacctd_flow_lifetime, default 60 */
	uint32_t frag_buffer_size;	/* pmacctd_frag_buffer_size */
	uint32_t flow_buffer_size;	/* pmacctd_flow_buffer_size */
	/* uacctd: the NFLOG source */
	uint32_t uacctd_group;		/* NFLOG group joined (-g), default 0 */
	uint32_t uacctd_nl_size;	/* netlink buffer bytes, default 131072 */
	uint32_t uacctd_threshold;	/* packets the kernel queues before a delivery, default 1 */
	struct cfg_tunnel tunnel_0;	/* tunnel_0: tunnels accounted on their inner packet */
	/* nDPI classification (the class primitive in pmacctd): classifier_* */
	uint32_t cl_num_roots;		/* classifier_num_roots: initial hash buckets */
	uint32_t cl_max_flows;		/* classifier_max_flows */
	bool cl_proto_guess;		/* classifier_proto_guess */
	uint32_t cl_idle_scan_period;	/* classifier_idle_scan_period, seconds */
	uint32_t cl_idle_max_time;	/* classifier_idle_max_time, seconds */
	uint32_t cl_idle_scan_budget;	/* classifier_idle_scan_budget */
	uint32_t cl_giveup_tcp;		/* classifier_giveup_proto_tcp, packets */
	uint32_t cl_giveup_udp;		/* classifier_giveup_proto_udp */
	uint32_t cl_giveup_other;	/* classifier_giveup_proto_other */

	/* *_net and *_as sources, map reloads */
	char *net_source;		/* [pm|nf|sf]acctd_net: file, mask, longest, ... */
	char *as_source;		/* [pm|nf|sf]acctd_as: file, false, longest, ... */
	bool maps_refresh;		/* default true */
	/* NetFlow/sFlow collectors (nfacctd_* and sfacctd_* names share these) */
	char *collector_ip;		/* nfacctd_ip / sfacctd_ip (-L) */
	uint32_t collector_port;	/* nfacctd_port / sfacctd_port (-l), 0 = daemon default */
	bool collector_ipv6_only;
	size_t collector_pipe_size;	/* SO_RCVBUF, 0 = OS default */
	char *collector_allow_file;
	uint32_t collector_workers;	/* receive threads, default 1 */
	uint32_t collector_max_exporters;	/* ours: exporters/agents tracked apart, default 65536 */

	bool renormalize;		/* pmacctd_renormalize (-R) */
	uint32_t ext_sampling_rate;	/* pmacctd_ext_sampling_rate, 0 = none */
	char *sampling_map;		/* sampling_map: per exporter/interface rates (nfacctd, sfacctd) */
	/* flow records: NetFlow/sFlow settings, time-bins, stitching, custom primitives, maps */
	bool nf_time_secs;		/* nfacctd_time_secs: v5/v9 uptimes in seconds */
	bool nf_time_new;		/* nfacctd_time_new: time-bins by arrival */
	bool stitching;			/* [pm|nf|sf]acctd_stitching: timestamp_min/max */
	bool nf_pro_rating;		/* nfacctd_pro_rating: split flows across time-bins */
	bool nf_account_options;	/* nfacctd_account_options */
	bool use_ip_next_hop;		/* peer_dst_ip from the IP next hop, not the BGP one */
	char *nf_templates_file;	/* nfacctd_templates_file: templates kept across restarts */
	uint32_t nf_max_templates;	/* ours: templates kept, default 65536 */
	uint32_t nf_hold_secs;		/* ours: data before its template held this long, 0 = off */
	size_t nf_hold_bytes;		/* ours: at most this much such data held */
	char *aggregate_primitives;	/* custom primitives definition file (model/prim_custom.c) */
	struct prim_registry *prims;	/* owned: built-in primitives plus aggregate_primitives' (cfg_load) */
	char *flow_to_rd_map;		/* flow_to_rd_map: mpls_vpn_rd by exporter, interface, label */
	char *geoipv2_file;		/* geoipv2_file: MaxMind DB of the GeoIP primitives (maps/geoip.h) */
	bool nf_ignore_exporter_address;	/* peer_src_ip never from IE 130/131 */
	struct bgp_cfg bgp;		/* bgp_* keys */
	bool nf_pre_processing_checks;	/* nfacctd_pre_processing_checks (master) */
	char *sf_counter_file;		/* sfacctd_counter_file: counter samples as JSON lines */
	char *sf_counter_output;	/* sfacctd_counter_output: json (the only format) */

	/* privileges and created files (daemon.c, lib/privs.c) */
	char *user, *group;		/* ours: run as, once sockets and capture are open */
	char *files_uid, *files_gid;	/* owner of created files: name or number */
	uint32_t files_umask;		/* default 077 */

	/* timestamps */
	bool timestamps_secs, timestamps_rfc3339, timestamps_utc, timestamps_since_epoch;

	struct cfg_extra extra;		/* global keys recognised, not implemented (CT_RAW) */
	struct cfg_extra origin;	/* key -> "file:line" of its effective value */

	struct plugin_cfg *plugins;
	int nplugins;
	bool plugins_defaulted;		/* no plugins: line, memory plugin made */

	/* runtime, not config: exporter and capture health for the http plugin (model/health.h) */
	struct health *health;		/* set by an http plugin's init; NULL = not published */
	/* runtime: every table's ceiling and fill (model/gauge.h), made by daemon_main() */
	struct gauges *gauges;		/* NULL: tables go unreported (unit tests) */
};

/* One extra key: value line coming from a command-line flag. */
struct cfg_arg {
	const char *key;
	const char *value;
};

/*
 * Parse `file` (may be NULL: no config file) followed by the command-line
 * lines in args[0..nargs) (appended after the file, so they override it).
 * Unknown keys and symbols are warned about and ignored, as pmacct does.
 * Returns 0, or -1 after logging an error that names file, line and key
 * (invalid value, syntax error, missing plugin file...).  On success *cfg
 * is filled and owns its strings; free it with cfg_fini().
 */
int cfg_load(struct core_cfg *cfg, enum cfg_daemon d, const char *file,
    const struct cfg_arg *args, int nargs);

void cfg_fini(struct core_cfg *cfg);

/* Print the effective configuration as `key[plugin]: value` lines (config-check mode). */
void cfg_dump(const struct core_cfg *cfg, FILE *out);

/* Find a plugin by name; NULL if none. */
struct plugin_cfg *cfg_plugin(struct core_cfg *cfg, const char *name);

/*
 * Value of `key` in `e` (a raw key's text, or a key's origin), looked up
 * by canonical name (e.g. "sql_table"); NULL if the key was not set.  The
 * string is owned by the configuration.
 */
const char *cfg_extra_get(const struct cfg_extra *e, const char *key);

/* Set key to value in the list (replacing an earlier value); free the whole list. */
void cfg_extra_set(struct cfg_extra *e, const char *key, const char *value);
void cfg_extra_free(struct cfg_extra *e);

/*
 * Where the effective value of `key` came from, as "file:line" (or
 * "command line"), for errors found after parsing (a BPF filter that does
 * not compile, a map that cannot be read).  `origin` is the plugin's or
 * the core's origin list; "default" when the key was never set.
 */
const char *cfg_where(const struct cfg_extra *origin, const char *key);

#endif
