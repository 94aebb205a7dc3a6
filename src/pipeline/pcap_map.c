/* SPDX-License-Identifier: BSD-3-Clause */
/* pcap_map.c: classic pcap capture files read in place from a memory map (no copies, no read()). */
#include "pcap_map.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/text.h"
#include "lib/xalloc.h"

/*
 * The file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html):
 * a 24-byte header (magic, version, thiszone, sigfigs, snaplen, link type)
 * and records of a 16-byte header (seconds, micro- or nanoseconds, captured
 * length, original length) followed by the captured bytes.  libpcap reads
 * it through stdio, copying every byte twice; a map hands the decoder the
 * page cache's own pages.
 */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR 24
#define PCAP_REC_HDR 16
#define PCAP_MAX_CAPLEN 262144u	/* libpcap's limit for a record */
#define PCAP_PREFETCH 8192	/* bytes ahead of the reader brought into cache */

struct pcap_map {
	const uint8_t *base;
	size_t size, off;
	size_t pf;		/* prefetched up to here */
	bool swap, nsec;
	int linktype;
};

static uint32_t get32(const struct pcap_map *m, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

/* Link types whose LINKTYPE_ value is the DLT_ value and that the packet decoder reads. */
static bool linktype_ok(uint32_t lt)
{
	static const uint32_t ok[] = { 0, 1, 101, 108, 113, 228, 229, 276 };

	for (size_t i = 0; i < NELEM(ok); i++)
		if (ok[i] == lt)
			return true;
	return false;
}

struct pcap_map *pcap_map_open(const char *path)
{
	struct pcap_map m = { 0 };
	struct stat st;
	uint32_t magic;
	void *base;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < PCAP_HDR) {
		close(fd);
		return NULL;
	}
	base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (base == MAP_FAILED)
		return NULL;
	m.base = base;
	m.size = (size_t)st.st_size;
	memcpy(&magic, m.base, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		m.nsec = magic == PCAP_MAGIC_NS;
	} else if (__builtin_bswap32(magic) == PCAP_MAGIC_US ||
	    __builtin_bswap32(magic) == PCAP_MAGIC_NS) {
		m.swap = true;
		m.nsec = __builtin_bswap32(magic) == PCAP_MAGIC_NS;
	} else {
		munmap(base, m.size);
		return NULL;
	}
	/* the upper bits of the link type field carry FCS information (none here) */
	uint32_t lt = get32(&m, m.base + 20);
	if (!linktype_ok(lt)) {
		munmap(base, m.size);
		return NULL;
	}
	m.linktype = (int)lt;
	m.off = PCAP_HDR;
	(void)madvise(base, m.size, MADV_SEQUENTIAL);
	(void)madvise(base, m.size, MADV_WILLNEED);
	struct pcap_map *r = xmalloc(sizeof(*r));
	*r = m;
	return r;
}

int pcap_map_linktype(const struct pcap_map *m)
{
	return m->linktype;
}

int pcap_map_next(struct pcap_map *m, struct pcap_pkthdr *h, const uint8_t **pkt,
    const char **why)
{
	size_t left = m->size - m->off;

	if (left == 0)
		return 0;
	if (left < PCAP_REC_HDR) {
		*why = "truncated dump file: a record header is cut short";
		return -1;
	}
	const uint8_t *p = m->base + m->off;
	uint32_t frac = get32(m, p + 4);
	h->ts.tv_sec = (time_t)get32(m, p);
	h->ts.tv_usec = (suseconds_t)(m->nsec ? frac / 1000 : frac);
	h->caplen = get32(m, p + 8);
	h->len = get32(m, p + 12);
	if (h->caplen > PCAP_MAX_CAPLEN) {
		*why = "bogus savefile header: captured length too large";
		return -1;
	}
	if (h->caplen > left - PCAP_REC_HDR) {
		*why = "truncated dump file: a record's bytes are cut short";
		return -1;
	}
	*pkt = p + PCAP_REC_HDR;
	m->off += PCAP_REC_HDR + h->caplen;
	/*
	 * The hardware prefetcher stops at page boundaries: the next records
	 * would reach the decoder as cache misses spread over its reads.
	 */
	size_t want = m->off + PCAP_PREFETCH < m->size ? m->off + PCAP_PREFETCH : m->size;
	if (m->pf < m->off)
		m->pf = m->off & ~(size_t)63;
	for (; m->pf < want; m->pf += 64)
		__builtin_prefetch(m->base + m->pf);
	return 1;
}

void pcap_map_rewind(struct pcap_map *m)
{
	m->off = PCAP_HDR;
	m->pf = 0;
}

void pcap_map_close(struct pcap_map *m)
{
	if (!m)
		return;
	munmap((void *)m->base, m->size);
	free(m);
}

void pcap_map_progress(const struct pcap_map *m, uint64_t *done, uint64_t *total)
{
	*done = m->off;
	*total = m->size;
}
