/* SPDX-License-Identifier: BSD-3-Clause */
/* progress.c: the progress line of long capture-file reads (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void progress_init(struct progress *p, const char *what, uint64_t total, int fd, bool force,
    double now)
{
	const char *base = strrchr(what, '/');
	size_t n;

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->on = force || isatty(fd);
	p->t0 = p->last = now;
	p->total = total;
	base = base ? base + 1 : what;
	n = strlen(base);
	if (n >= sizeof(p->what))	/* keep the end of a long name */
		base += n - (sizeof(p->what) - 4);
	snprintf(p->what, sizeof(p->what), "%s%s", n >= sizeof(p->what) ? "..." : "", base);
}

/* 1234567 -> "1.23M" */
static void si(char *buf, size_t len, double v)
{
	if (v >= 1e9)
		snprintf(buf, len, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, len, "%.1fk", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

int progress_format(const struct progress *p, uint64_t done, uint64_t packets, double now,
    char *buf, int len)
{
	double el = now - p->t0, rate = el > 0 ? (double)packets / el : 0;
	char pk[16], rt[16];
	int n;

	si(pk, sizeof(pk), (double)packets);
	si(rt, sizeof(rt), rate);
	if (p->total == 0 || done == 0 || done > p->total)
		return snprintf(buf, (size_t)len, "[%s] %s packets, %s packets/s", p->what, pk, rt);
	double frac = (double)done / (double)p->total;
	long eta = (long)(el / frac - el + 0.5);
	n = snprintf(buf, (size_t)len, "[%s] %.0f%%, %s packets, %s packets/s, ETA %ld:%02ld",
	    p->what, frac * 100.0, pk, rt, eta / 60, eta % 60);
	return n;
}

void progress_tick(struct progress *p, uint64_t done, uint64_t packets, double now)
{
	char line[160];
	int n;

	if (!p->on || now - p->t0 < PROGRESS_DELAY || now - p->last < PROGRESS_EVERY)
		return;
	p->last = now;
	n = progress_format(p, done, packets, now, line, sizeof(line));
	if (n < 0)
		return;
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	dprintf(p->fd, "\r%s\033[K", line);
	p->shown = true;
}

void progress_done(struct progress *p)
{
	if (p->shown)
		dprintf(p->fd, "\r\033[K");
	p->shown = false;
}
