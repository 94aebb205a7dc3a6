/* SPDX-License-Identifier: BSD-3-Clause */
/* rpki.c: where a daemon's ROAs come from: rpki_roas_file (SIGUSR2 reload) or an RPKI-to-Router cache. */
#include "rpki.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "rpki_rtr.h"

#define WHO "default/core/RPKI"

struct rpki {
	struct roa_db *db;
	char *roas_file;
	struct rpki_rtr *rtr;
};

static int load_file(struct rpki *r)
{
	char why[512];
	struct roa_table *t;

	log_info(WHO, "[%s] (re)loading map.", r->roas_file);
	t = roa_load_json(r->roas_file, WHO, why, sizeof(why));
	if (!t) {
		log_err(WHO, "%s", why);
		return -1;
	}
	log_info(WHO, "[%s] map successfully (re)loaded (%zu ROAs).", r->roas_file, roa_table_count(t));
	roa_db_swap(r->db, t);
	return 0;
}

struct rpki *rpki_new(const struct core_cfg *cfg, int *err)
{
	const struct bgp_cfg *b = &cfg->bgp;
	struct rpki *r;

	*err = 0;
	if (!b->rpki_roas_file && !b->rpki_rtr_cache)
		return NULL;
	if (b->rpki_roas_file && b->rpki_rtr_cache) {
		log_err(WHO, "[%s] rpki_roas_file and rpki_rtr_cache are mutual exclusive. Exiting.",
		    cfg_where(&cfg->origin, "rpki_rtr_cache"));
		*err = 1;
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->db = roa_db_new();
	if (b->rpki_roas_file) {
		r->roas_file = xstrdup(b->rpki_roas_file);
		if (load_file(r) < 0) {
			log_err(WHO, "[%s] key 'rpki_roas_file': cannot load '%s'. Exiting.",
			    cfg_where(&cfg->origin, "rpki_roas_file"), r->roas_file);
			rpki_free(r);
			*err = 1;
			return NULL;
		}
	} else {
		char why[256];
		r->rtr = rpki_rtr_new(b->rpki_rtr_cache, b->rpki_rtr_cache_version,
		    b->rpki_rtr_cache_pipe_size, b->rpki_rtr_cache_ipprec, r->db, why, sizeof(why));
		if (!r->rtr) {
			log_err(WHO, "[%s] key 'rpki_rtr_cache': %s. Exiting.",
			    cfg_where(&cfg->origin, "rpki_rtr_cache"), why);
			rpki_free(r);
			*err = 1;
			return NULL;
		}
	}
	return r;
}

struct roa_db *rpki_db(struct rpki *r)
{
	return r ? r->db : NULL;
}

int rpki_start(struct rpki *r)
{
	return r && r->rtr ? rpki_rtr_start(r->rtr) : 0;
}

void rpki_reload(struct rpki *r)
{
	if (r && r->roas_file)
		(void)load_file(r);
}

void rpki_free(struct rpki *r)
{
	if (!r)
		return;
	rpki_rtr_free(r->rtr);
	roa_db_free(r->db);
	free(r->roas_file);
	free(r);
}
