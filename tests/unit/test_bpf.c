/* SPDX-License-Identifier: BSD-3-Clause */
/* test_bpf.c: prefixes with host bits in BPF filters (the seed's `dst net 192.168.1.0/19`). */
#include <string.h>

#include "lib/bpf.h"
#include "tap.h"

static void test_mask(void)
{
	char out[256];

	is_int(bpf_mask_prefixes("dst net 192.168.1.0/19", out, sizeof(out)), 1, "one prefix changed");
	is_str(out, "dst net 192.168.0.0/19", "host bits cleared");
	is_int(bpf_mask_prefixes("src net 192.168.50.0/23 or dst net 10.1.2.3/8", out, sizeof(out)), 1,
	    "only the prefix with host bits counts");
	is_str(out, "src net 192.168.50.0/23 or dst net 10.0.0.0/8", "both rewritten in place");
	is_int(bpf_mask_prefixes("src net 192.2168.50/23", out, sizeof(out)), 0, "a typo is left alone");
	is_str(out, "src net 192.2168.50/23", "unchanged");
	is_int(bpf_mask_prefixes("host 10.0.0.1 and port 80", out, sizeof(out)), 0, "no prefix");
	is_int(bpf_mask_prefixes("net 1.2.3.4/0", out, sizeof(out)), 1, "/0");
	is_str(out, "net 0.0.0.0/0", "/0 keeps nothing");
	is_int(bpf_mask_prefixes("net 1.2.3.4/32", out, sizeof(out)), 0, "/32 keeps everything");
	is_int(bpf_mask_prefixes("net 1.2.3.4/33", out, sizeof(out)), 0, "/33 is not a prefix");
}

static void test_compile(void)
{
	pcap_t *pc = pcap_open_dead(DLT_EN10MB, 128);
	struct bpf_program prog;

	ok(bpf_compile(pc, &prog, "dst net 192.168.1.0/19", "test", "t.conf:1", "aggregate_filter") == 0,
	    "the seed's filter compiles");
	pcap_freecode(&prog);
	ok(bpf_compile(pc, &prog, "src net 192.2168.50/23", "test", "t.conf:2", "aggregate_filter") < 0,
	    "the seed's typo is refused");
	ok(strstr(pcap_geterr(pc), "192.2168.50") != NULL, "with libpcap's message on the text as written");
	pcap_close(pc);
}

int main(void)
{
	test_mask();
	test_compile();
	return tap_done();
}
