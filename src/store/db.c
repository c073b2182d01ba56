#include "store/db_impl.h"

#include <string.h>

enum db_kind db_kind(const struct db *db)
{
	return db->ops->kind;
}

struct db_stmt *db_prepare(struct db *db, const char *sql)
{
	return db->ops->prepare(db, sql);
}

int db_bind_int64(struct db_stmt *st, int idx, int64_t v)
{
	return st->db->ops->bind_int64(st, idx, v);
}

int db_bind_text(struct db_stmt *st, int idx, const char *s, ptrdiff_t len)
{
	if (!s)
		return st->db->ops->bind_null(st, idx);
	return st->db->ops->bind_text(st, idx, s, len < 0 ? strlen(s) : (size_t)len);
}

int db_bind_blob(struct db_stmt *st, int idx, const void *p, size_t len)
{
	if (!p)
		return st->db->ops->bind_null(st, idx);
	return st->db->ops->bind_blob(st, idx, p, len);
}

int db_bind_null(struct db_stmt *st, int idx)
{
	return st->db->ops->bind_null(st, idx);
}

int db_step(struct db_stmt *st)
{
	return st->db->ops->step(st);
}

void db_reset(struct db_stmt *st)
{
	st->db->ops->reset(st);
}

int db_col_count(struct db_stmt *st)
{
	return st->db->ops->col_count(st);
}

bool db_col_is_null(struct db_stmt *st, int col)
{
	return st->db->ops->col_is_null(st, col);
}

int64_t db_col_int64(struct db_stmt *st, int col)
{
	return st->db->ops->col_int64(st, col);
}

const char *db_col_text(struct db_stmt *st, int col, size_t *ret_len)
{
	return st->db->ops->col_text(st, col, ret_len);
}

const void *db_col_blob(struct db_stmt *st, int col, size_t *ret_len)
{
	return st->db->ops->col_blob(st, col, ret_len);
}

int64_t db_changes(struct db_stmt *st)
{
	return st->db->ops->changes(st);
}

int db_exec(struct db *db, const char *sql)
{
	return db->ops->exec(db, sql);
}

const char *db_errmsg(struct db *db)
{
	return db->ops->errmsg(db);
}

int db_step_done(struct db_stmt *st)
{
	int rc = db_step(st);
	db_reset(st);
	if (rc == DB_ROW || rc == DB_DONE)
		return DB_OK;
	return rc;
}
