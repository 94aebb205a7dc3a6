/* SPDX-License-Identifier: BSD-3-Clause */
/* bpf.c: compile a BPF filter as pmacct's users wrote it, host bits in `net` prefixes included. */
#include "bpf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Parse "a.b.c.d/len" at s (exactly four octets); its length in *n, or false. */
static bool parse_prefix(const char *s, uint32_t *addr, unsigned *plen, size_t *n)
{
	const char *p = s;
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		char *e;
		if (!isdigit((unsigned char)*p))
			return false;
		unsigned long v = strtoul(p, &e, 10);
		if (v > 255 || e - p > 3)
			return false;
		a = a << 8 | (uint32_t)v;
		p = e;
		if (i < 3 && *p++ != '.')
			return false;
	}
	if (*p++ != '/' || !isdigit((unsigned char)*p))
		return false;
	char *e;
	unsigned long l = strtoul(p, &e, 10);
	if (l > 32 || isalnum((unsigned char)*e) || *e == '.')
		return false;
	*addr = a;
	*plen = (unsigned)l;
	*n = (size_t)(e - s);
	return true;
}

int bpf_mask_prefixes(const char *text, char *out, size_t len)
{
	size_t o = 0;
	int changed = 0;

	for (const char *s = text; *s && o + 1 < len;) {
		uint32_t a;
		unsigned l;
		size_t n;
		bool at_word = s == text || !(isalnum((unsigned char)s[-1]) || s[-1] == '.');
		if (at_word && parse_prefix(s, &a, &l, &n)) {
			uint32_t m = l ? ~(uint32_t)0 << (32 - l) : 0;
			int w = snprintf(out + o, len - o, "%u.%u.%u.%u/%u", (a & m) >> 24,
			    (a & m) >> 16 & 0xff, (a & m) >> 8 & 0xff, (a & m) & 0xff, l);
			if (w < 0 || (size_t)w >= len - o)
				break;
			changed += (a & m) != a;
			o += (size_t)w;
			s += n;
			continue;
		}
		out[o++] = *s++;
	}
	out[o < len ? o : len - 1] = '\0';
	return changed;
}

int bpf_compile(pcap_t *pc, struct bpf_program *prog, const char *text, const char *who,
    const char *where, const char *key)
{
	char fixed[4096];

	if (pcap_compile(pc, prog, text, 1, PCAP_NETMASK_UNKNOWN) == 0)
		return 0;
	if (!strstr(pcap_geterr(pc), "non-network bits set") ||
	    bpf_mask_prefixes(text, fixed, sizeof(fixed)) == 0 ||
	    pcap_compile(pc, prog, fixed, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		/* report the original error for the text as written */
		(void)pcap_compile(pc, prog, text, 1, PCAP_NETMASK_UNKNOWN);
		return -1;
	}
	log_warnx(who, "[%s] key '%s': filter '%s' has host bits set in a prefix; using '%s'",
	    where, key, text, fixed);
	return 0;
}
