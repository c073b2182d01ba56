/*
 * The shared exchange-rate table of a running Tender (see app.h). Tables are immutable once
 * loaded, so the lock only guards the pointer: a reader holds it for the time of one increment
 * (fx_table_ref), a reload for the time of one pointer swap. The expensive part of a reload,
 * parsing the file, happens before the lock is taken. Also the address the URLs Tender hands out
 * start with when no request names one (app_url_base).
 */
#include "app.h"

#include <stdatomic.h>

#include "money/fx.h"

#include <stdio.h>

struct fx_table *app_fx_load(const char *path, char *err, size_t errlen)
{
	if (path)
		return fx_table_load_file(path, err, errlen);
	struct fx_table *t = fx_table_load_bundled();
	if (!t && err && errlen)
		snprintf(err, errlen, "cannot load the bundled exchange rates (out of memory)");
	return t;
}

int app_fx_init(struct app *app, struct fx_table *t)
{
	if (pthread_mutex_init(&app->fx_lock, NULL) != 0)
		return -1;
	app->fx = t;
	return 0;
}

struct fx_table *app_fx_acquire(struct app *app)
{
	if (!app)
		return NULL;
	pthread_mutex_lock(&app->fx_lock);
	struct fx_table *t = app->fx ? fx_table_ref(app->fx) : NULL;
	pthread_mutex_unlock(&app->fx_lock);
	return t;
}

void app_fx_swap(struct app *app, struct fx_table *t)
{
	pthread_mutex_lock(&app->fx_lock);
	struct fx_table *old = app->fx;
	app->fx = t;
	pthread_mutex_unlock(&app->fx_lock);
	fx_table_free(old); /* outside the lock: the last reference may free a large table */
}

void app_fx_release(struct app *app)
{
	app_fx_swap(app, NULL);
	pthread_mutex_destroy(&app->fx_lock);
}

const char *app_url_base(const struct app *app)
{
	if (app && app->cfg.public_url && *app->cfg.public_url)
		return app->cfg.public_url;
	const char *self = app ? atomic_load(&app->self_url) : NULL;
	if (self)
		return self;
	return "http://127.0.0.1:4242";
}
