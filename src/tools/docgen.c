/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * docgen: documentation from the key and primitives tables (build time).
 *   docgen keys-markdown                 docs/config-keys.md
 *   docgen man-config                    pmacct.conf(5)
 *   docgen man-page TEMPLATE [OUT]       a manual page from a template: @VERSION@ and lines
 *                                        @PRIMITIVES pmacctd|nfacctd|sfacctd@ are filled in
 *   docgen nf-elements                   the NetFlow/IPFIX element table of docs/nfacctd.md
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/keydoc.h"
#include "decode/nf_ie.h"
#include "lib/text.h"
#include "model/prim.h"

static int source_of(const char *name)
{
	if (strcmp(name, "pmacctd") == 0)
		return SRC_PM;
	if (strcmp(name, "nfacctd") == 0)
		return SRC_NF;
	if (strcmp(name, "sfacctd") == 0)
		return SRC_SF;
	return -1;
}

static void put_version(FILE *out, const char *line)
{
	const char *at;

	while ((at = strstr(line, "@VERSION@")) != NULL) {
		fwrite(line, 1, (size_t)(at - line), out);
		fputs(PMACCT_NG_VERSION, out);
		line = at + strlen("@VERSION@");
	}
	fputs(line, out);
}

static int man_page(const char *tpl, FILE *out)
{
	FILE *in = fopen(tpl, "r");
	char line[4096], daemon[32];
	int lineno = 0, rc = 0;

	if (!in) {
		perror(tpl);
		return 1;
	}
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		if (sscanf(line, "@PRIMITIVES %31[a-z]@", daemon) == 1) {
			int src = source_of(daemon);
			if (src < 0) {
				fprintf(stderr, "%s:%d: unknown daemon '%s'\n", tpl, lineno, daemon);
				rc = 1;
				break;
			}
			prim_man_list(out, (uint8_t)src);
		} else {
			put_version(out, line);
		}
	}
	fclose(in);
	return rc;
}

/*
 * What the elements that feed no primitive directly are used for (their
 * destination is decoder scratch, combined once the whole record is read).
 */
static const struct { uint32_t pen; uint16_t id; const char *use; } nf_uses[] = {
	{ 0, 6, "`tcpflags` (1 or 2 bytes: the low byte)" },
	{ 0, 15, "`peer_dst_ip` with `use_ip_next_hop`" },
	{ 0, 18, "`peer_dst_ip`" },
	{ 0, 21, "`timestamp_end` (v9: with the header's uptime; IPFIX: with IE 160)" },
	{ 0, 22, "`timestamp_start` (v9: with the header's uptime; IPFIX: with IE 160)" },
	{ 0, 32, "`src_port`/`dst_port` of ICMP (type, code)" },
	{ 0, 34, "`sampling_rate` (options or record)" },
	{ 0, 48, "`sampling_rate`: the record's sampler (options: the sampler described)" },
	{ 0, 50, "`sampling_rate` (options)" },
	{ 0, 58, "`vlan`, `in_vlan`" },
	{ 0, 59, "`vlan`, `out_vlan`" },
	{ 0, 60, "`etype` when IE 256 is absent" },
	{ 0, 61, "`sampling_direction` (0 `i`, 1 `e`), `vlan` and `mpls_vpn_rd` (egress flows use egress VLAN / VRF)" },
	{ 0, 62, "`peer_dst_ip` with `use_ip_next_hop`" },
	{ 0, 63, "`peer_dst_ip`" },
	{ 0, 70, "`mpls_label_top`, `mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 71, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 72, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 73, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 74, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 75, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 76, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 77, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 78, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 79, "`mpls_label_bottom`, `mpls_label_stack`, `mpls_stack_depth`" },
	{ 0, 82, "`in_iface_name`/`out_iface_name` (options data, by ifIndex)" },
	{ 0, 95, "`class`: the name options data gave the id (IE 96)" },
	{ 0, 96, "`class` (options data, by applicationId)" },
	{ 0, 130, "`peer_src_ip` (options data)" },
	{ 0, 131, "`peer_src_ip` (options data)" },
	{ 0, 139, "`src_port`/`dst_port` of ICMPv6 (type, code)" },
	{ 0, 150, "`timestamp_start`" }, { 0, 151, "`timestamp_end`" },
	{ 0, 152, "`timestamp_start`" }, { 0, 153, "`timestamp_end`" },
	{ 0, 154, "`timestamp_start`" }, { 0, 155, "`timestamp_end`" },
	{ 0, 156, "`timestamp_start`" }, { 0, 157, "`timestamp_end`" },
	{ 0, 160, "`timestamp_start`/`timestamp_end` with IEs 22/21" },
	{ 0, 234, "`ingress_vrf_name`, `vrf_name`, `mpls_vpn_rd` (and options: the VRF described)" },
	{ 0, 235, "`egress_vrf_name`, `vrf_name`, `mpls_vpn_rd` (and options: the VRF described)" },
	{ 0, 236, "`ingress_vrf_name`, `egress_vrf_name`, `vrf_name` (options data, by VRF id)" },
	{ 0, 243, "`vlan`, `in_vlan`" },
	{ 0, 254, "`vlan`, `out_vlan`" },
	{ 0, 302, "`sampling_rate`: the record's sampler (options: the sampler described)" },
	{ 0, 305, "`sampling_rate` (options)" }, { 0, 306, "`sampling_rate` (options)" },
	{ 0, 309, "`sampling_rate` (options)" }, { 0, 310, "`sampling_rate` (options)" },
	{ 0, 351, "`vxlan`: the low 24 bits of a segment id of type 0x01 (VXLAN)" },
	{ 0, 603, "`path_delay_avg_usec`: sum / packets" },
	{ NF_PEN_HUAWEI, 527, "`path_delay_avg_usec`: sum / packets" },
};

/* The use of element (pen, id) mapped to `ie`: the primitives its destination is, else nf_uses[]. */
static void nf_use(FILE *out, uint32_t pen, const struct nf_ie *ie)
{
	size_t key = offsetof(struct nf_scr, rec) + offsetof(struct flow_rec, k);
	size_t rec = offsetof(struct nf_scr, rec);
	int n = 0;

	for (size_t i = 0; i < NELEM(nf_uses); i++)
		if (nf_uses[i].pen == pen && nf_uses[i].id == ie->id) {
			fputs(nf_uses[i].use, out);
			return;
		}
	if (ie->dst >= key && ie->dst < key + sizeof(struct flow_key)) {
		size_t off = ie->dst - key;
		for (int p = 0; p < P_CUSTOM_0; p++) {
			const struct prim_desc *d = prim_desc_of(NULL, p);
			if (d->len && off >= d->off && off < (size_t)d->off + d->len && (int)d->alias == p)
				fprintf(out, "%s`%s`", n++ ? ", " : "", d->name);
		}
	} else if (ie->dst == rec + offsetof(struct flow_rec, bytes)) {
		fputs("bytes", out), n++;
	} else if (ie->dst == rec + offsetof(struct flow_rec, packets)) {
		fputs("packets", out), n++;
	} else if (ie->dst == rec + offsetof(struct flow_rec, flows)) {
		fputs("flows", out), n++;
	}
	if (!n)
		fputs("-", out);
}

/* Every element the decoder reads, IANA then enterprise ones, as a markdown table. */
static void nf_elements(FILE *out)
{
	static const uint32_t pens[] = { 0, NF_PEN_HUAWEI };

	fputs("| element | name | fills |\n|---|---|---|\n", out);
	for (size_t k = 0; k < NELEM(pens); k++)
		for (uint32_t id = 0; id < 0x8000; id++) {
			const struct nf_ie *ie = nf_ie_find_pen(pens[k], (uint16_t)id);
			if (!ie)
				continue;
			if (pens[k])
				fprintf(out, "| %u.%u | %s | ", pens[k], id, ie->name);
			else
				fprintf(out, "| %u | %s | ", id, ie->name);
			nf_use(out, pens[k], ie);
			fputs(" |\n", out);
		}
}

int main(int argc, char **argv)
{
	FILE *out = stdout;
	int rc;

	if (argc == 2 && strcmp(argv[1], "keys-markdown") == 0) {
		cfg_keys_markdown(out);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "nf-elements") == 0) {
		nf_elements(out);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "man-config") == 0) {
		cfg_keys_man(out, PMACCT_NG_VERSION);
		return 0;
	}
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "man-page") == 0) {
		if (argc == 4 && !(out = fopen(argv[3], "w"))) {
			perror(argv[3]);
			return 1;
		}
		rc = man_page(argv[2], out);
		if (out != stdout && fclose(out) != 0)
			rc = 1;
		return rc;
	}
	fprintf(stderr, "usage: docgen keys-markdown | man-config | nf-elements | "
	    "man-page TEMPLATE [OUT]\n");
	return 2;
}
