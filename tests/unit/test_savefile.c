/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_savefile.c: the -I reader against libpcap reading the same files: every record's header
 * and bytes, records larger than the window and many small ones across its refills, either byte
 * order, nanosecond files, the replay's rewind, and the truncated and corrupt files libpcap
 * refuses.
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/savefile.h"
#include "tap.h"

#define MAXREC 262144u

static void put32(FILE *f, uint32_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	fwrite(&v, 4, 1, f);
}

static void put16(FILE *f, uint16_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap16(v);
	fwrite(&v, 2, 1, f);
}

/* Caplen of record i: mostly small, some past the window, one of libpcap's maximum. */
static uint32_t rec_len(unsigned i)
{
	if (i == 7)
		return MAXREC;
	if (i % 97 == 3)
		return 70000 + i;
	return 60 + (i * 37) % 1400;
}

/* A capture of n records; the bytes of record i are (i + j) & 0xff.  Returns its path. */
static char *write_capture(const char *dir, const char *name, unsigned n, bool swap, bool nsec,
    long cut)
{
	char *path = malloc(256);
	snprintf(path, 256, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	uint8_t *buf = malloc(MAXREC);

	put32(f, nsec ? 0xa1b23c4du : 0xa1b2c3d4u, swap);
	put16(f, 2, swap);
	put16(f, 4, swap);
	put32(f, 0, swap);
	put32(f, 0, swap);
	put32(f, MAXREC, swap);
	put32(f, 1, swap);	/* Ethernet */
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = rec_len(i);
		put32(f, 1700000000u + i, swap);
		put32(f, nsec ? i * 1000u + 7u : i, swap);
		put32(f, len, swap);
		put32(f, len + 4, swap);
		for (uint32_t j = 0; j < len; j++)
			buf[j] = (uint8_t)(i + j);
		fwrite(buf, 1, len, f);
	}
	fclose(f);
	free(buf);
	if (cut > 0 && truncate(path, cut) != 0)
		ok(false, "truncate %s", path);
	return path;
}

/* Every record of path, as ours and libpcap's reader give them, equal; returns the count. */
static unsigned compare_with_libpcap(const char *path, struct savefile *s, const char *what)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
	struct pcap_pkthdr h, *ph;
	const uint8_t *pkt, *ppkt;
	const char *why = NULL;
	unsigned n = 0, bad = 0;
	int rc;

	if (!p) {
		ok(false, "%s: libpcap opens it: %s", what, err);
		return 0;
	}
	while ((rc = savefile_next(s, &h, &pkt, &why)) == 1) {
		if (pcap_next_ex(p, &ph, &ppkt) != 1 || h.caplen != ph->caplen || h.len != ph->len ||
		    h.ts.tv_sec != ph->ts.tv_sec || h.ts.tv_usec != ph->ts.tv_usec ||
		    memcmp(pkt, ppkt, h.caplen) != 0)
			bad++;
		n++;
	}
	ok(rc == 0, "%s: the end of the file, no error", what);
	ok(bad == 0, "%s: all %u records equal libpcap's", what, n);
	ok(pcap_next_ex(p, &ph, &ppkt) == PCAP_ERROR_BREAK, "%s: libpcap has no more either", what);
	pcap_close(p);
	return n;
}

static void test_equal(const char *dir, bool swap, bool nsec, const char *what)
{
	char *path = write_capture(dir, "ok.pcap", 400, swap, nsec, 0);
	struct savefile *s = savefile_open(path);
	uint64_t done, total;

	ok(s != NULL, "%s: opened", what);
	if (!s)
		return;
	ok(savefile_linktype(s) == 1, "%s: Ethernet", what);
	ok(compare_with_libpcap(path, s, what) == 400, "%s: 400 records", what);
	savefile_progress(s, &done, &total);
	ok(done == total && total > 400u * 60, "%s: progress at the end is the file's size", what);
	savefile_rewind(s);
	ok(compare_with_libpcap(path, s, what) == 400, "%s: again after the rewind", what);
	savefile_close(s);
	unlink(path);
	free(path);
}

/* A file cut at `cut` bytes: the whole records before it, then -1 with why. */
static void test_truncated(const char *dir, long cut, unsigned whole, const char *want)
{
	char *path = write_capture(dir, "cut.pcap", 5, false, false, cut);
	struct savefile *s = savefile_open(path);
	struct pcap_pkthdr h;
	const uint8_t *pkt;
	const char *why = NULL;
	unsigned n = 0;
	int rc;

	ok(s != NULL, "cut at %ld: opened", cut);
	if (!s)
		return;
	while ((rc = savefile_next(s, &h, &pkt, &why)) == 1)
		n++;
	ok(rc == -1, "cut at %ld: an error", cut);
	ok(n == whole, "cut at %ld: after %u whole records", cut, whole);
	ok(why && strstr(why, want), "cut at %ld: '%s'", cut, why ? why : "(none)");
	savefile_close(s);
	unlink(path);
	free(path);
}

static void test_corrupt(const char *dir)
{
	char path[256];
	struct pcap_pkthdr h;
	const uint8_t *pkt;
	const char *why = NULL;

	/* a record header with a captured length past libpcap's maximum */
	snprintf(path, sizeof(path), "%s/bogus.pcap", dir);
	FILE *f = fopen(path, "wb");
	put32(f, 0xa1b2c3d4u, false);
	put16(f, 2, false);
	put16(f, 4, false);
	for (int i = 0; i < 3; i++)
		put32(f, i == 2 ? MAXREC : 0, false);
	put32(f, 1, false);
	put32(f, 1, false);
	put32(f, 0, false);
	put32(f, MAXREC + 1, false);
	put32(f, MAXREC + 1, false);
	fclose(f);
	struct savefile *s = savefile_open(path);
	ok(s && savefile_next(s, &h, &pkt, &why) == -1 && why && strstr(why, "too large"),
	    "a captured length past 262144 is refused: '%s'", why ? why : "(none)");
	savefile_close(s);

	/* not a classic pcap file: left to libpcap (pcapng) or refused */
	f = fopen(path, "wb");
	fputs("\x0a\x0d\x0d\x0a not a classic pcap", f);
	fclose(f);
	ok(savefile_open(path) == NULL, "a pcapng magic is not ours to read");
	f = fopen(path, "wb");
	fputs("short", f);
	fclose(f);
	ok(savefile_open(path) == NULL, "a file shorter than the file header");
	ok(savefile_open(dir) == NULL, "a directory");
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/test_savefile_XXXXXX";

	if (!mkdtemp(dir)) {
		ok(false, "mkdtemp");
		return tap_done();
	}
	test_equal(dir, false, false, "native order");
	test_equal(dir, true, false, "swapped order");
	test_equal(dir, false, true, "nanoseconds");
	/* header 24, then records of 16 + 60, 16 + 97, 16 + 134 ... */
	test_truncated(dir, 24 + 16 + 60 + 5, 1, "record header is cut short");
	test_truncated(dir, 24 + 16 + 60 + 16 + 10, 1, "record's bytes are cut short");
	test_corrupt(dir);
	rmdir(dir);
	return tap_done();
}
