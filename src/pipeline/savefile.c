/* SPDX-License-Identifier: BSD-3-Clause */
/* savefile.c: classic pcap capture files (-I) read through one small reused window. */
#include "savefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/text.h"
#include "lib/xalloc.h"

/*
 * The file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html):
 * a 24-byte header (magic, version, thiszone, sigfigs, snaplen, link type)
 * and records of a 16-byte header (seconds, micro- or nanoseconds, captured
 * length, original length) followed by the captured bytes.  libpcap reads
 * it through stdio, copying every byte twice.  Here read() copies it once,
 * into a window of PCAP_WINDOW bytes that stays in cache: the decoder's
 * loads hit.  A memory map of the whole file (no copy at all) was slower:
 * nfacctd -I on an 808 MB NetFlow capture spent 2.09 CPU-s against 1.60,
 * its decoder stalling on the first load of each new line of the file
 * despite prefetches 8 KiB ahead (bench/README.md).
 */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_HDR 24
#define PCAP_REC_HDR 16
#define PCAP_MAX_CAPLEN 262144u	/* libpcap's limit for a record */

struct savefile {
	int fd;
	uint8_t *buf;		/* a window of the file: [beg, end) not read yet */
	size_t beg, end;
	uint64_t size, off;	/* the file's size; where buf[beg] is in it */
	bool swap, nsec, eof;
	int linktype;
	int err;		/* errno of a failed read(), 0 if none */
};

/* The window: the largest record, and 64 KiB more (also 256 KiB and 1 MiB: no faster). */
#define PCAP_WINDOW (64u * 1024 + PCAP_MAX_CAPLEN + PCAP_REC_HDR)

static uint32_t get32(const struct savefile *m, const uint8_t *p)
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

/* At least n unread bytes in the window, unless the file ends first. */
static bool fill(struct savefile *m, size_t n)
{
	if (m->end - m->beg >= n)
		return true;
	memmove(m->buf, m->buf + m->beg, m->end - m->beg);
	m->end -= m->beg;
	m->beg = 0;
	while (!m->eof && m->end < n) {
		ssize_t r = read(m->fd, m->buf + m->end, PCAP_WINDOW - m->end);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			m->err = r < 0 ? errno : 0;
			m->eof = true;
			break;
		}
		m->end += (size_t)r;
	}
	return m->end >= n;
}

static bool start(struct savefile *m)
{
	if (lseek(m->fd, 0, SEEK_SET) != 0)
		return false;
	m->beg = m->end = 0;
	m->off = 0;
	m->eof = false;
	m->err = 0;
	if (!fill(m, PCAP_HDR))
		return false;
	m->beg = PCAP_HDR;
	m->off = PCAP_HDR;
	return true;
}

struct savefile *savefile_open(const char *path)
{
	struct savefile m = { .fd = -1 };
	struct stat st;
	uint32_t magic;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < PCAP_HDR) {
		close(fd);
		return NULL;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	m.fd = fd;
	m.size = (uint64_t)st.st_size;
	m.buf = xmalloc(PCAP_WINDOW);
	if (!start(&m))
		goto no;
	memcpy(&magic, m.buf, 4);
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		m.nsec = magic == PCAP_MAGIC_NS;
	} else if (__builtin_bswap32(magic) == PCAP_MAGIC_US ||
	    __builtin_bswap32(magic) == PCAP_MAGIC_NS) {
		m.swap = true;
		m.nsec = __builtin_bswap32(magic) == PCAP_MAGIC_NS;
	} else {
		goto no;
	}
	/* the upper bits of the link type field carry FCS information (none here) */
	uint32_t lt = get32(&m, m.buf + 20);
	if (!linktype_ok(lt))
		goto no;
	m.linktype = (int)lt;
	struct savefile *r = xmalloc(sizeof(*r));
	*r = m;
	return r;
no:
	free(m.buf);
	close(fd);
	return NULL;
}

int savefile_linktype(const struct savefile *m)
{
	return m->linktype;
}

int savefile_next(struct savefile *m, struct pcap_pkthdr *h, const uint8_t **pkt,
    const char **why)
{
	if (!fill(m, PCAP_REC_HDR)) {
		if (m->err) {
			*why = strerror(m->err);
			return -1;
		}
		if (m->end == m->beg)
			return 0;
		*why = "truncated dump file: a record header is cut short";
		return -1;
	}
	const uint8_t *p = m->buf + m->beg;
	uint32_t frac = get32(m, p + 4);
	h->ts.tv_sec = (time_t)get32(m, p);
	h->ts.tv_usec = (suseconds_t)(m->nsec ? frac / 1000 : frac);
	h->caplen = get32(m, p + 8);
	h->len = get32(m, p + 12);
	if (h->caplen > PCAP_MAX_CAPLEN) {
		*why = "bogus savefile header: captured length too large";
		return -1;
	}
	if (!fill(m, PCAP_REC_HDR + h->caplen)) {
		*why = m->err ? strerror(m->err) : "truncated dump file: a record's bytes are cut short";
		return -1;
	}
	*pkt = m->buf + m->beg + PCAP_REC_HDR;
	m->beg += PCAP_REC_HDR + h->caplen;
	m->off += PCAP_REC_HDR + h->caplen;
	return 1;
}

void savefile_rewind(struct savefile *m)
{
	(void)start(m);
}

void savefile_close(struct savefile *m)
{
	if (!m)
		return;
	close(m->fd);
	free(m->buf);
	free(m);
}

void savefile_progress(const struct savefile *m, uint64_t *done, uint64_t *total)
{
	*done = m->off;
	*total = m->size;
}
