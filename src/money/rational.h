/*
 * 128-bit rational helpers shared by money.c and fx.c (not for use outside src/money). Every
 * amount or rate computation forms an exact numerator and denominator in __int128 and rounds once
 * at the end, with the rule money.h states.
 */
#ifndef TENDER_MONEY_RATIONAL_H
#define TENDER_MONEY_RATIONAL_H

#include <stdint.h>

enum money_round {
	MONEY_ROUND_HALF_AWAY, /* the rule (money.h) */
	MONEY_ROUND_CEIL,      /* toward +infinity: only for minimums that must not fall short */
};

/* num / den rounded as asked; den != 0 (either sign). 0 or MONEY_ERR_INVALID (den == 0). The
 * quotient of two __int128 always fits except INT128_MIN / −1, which is refused as overflow. */
int money_div_round_i128(__int128 num, __int128 den, enum money_round mode, __int128 *ret);
/* num / den rounded as asked, and the result must fit in int64_t (else MONEY_ERR_OVERFLOW). */
int money_div_round_i64(__int128 num, __int128 den, enum money_round mode, int64_t *ret);
/* a × b in __int128 with overflow checking. */
int money_mul_i128(__int128 a, __int128 b, __int128 *ret);

#endif
