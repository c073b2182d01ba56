/*
 * Connect's cloning of PaymentMethods: POST /v1/payment_methods with payment_method (and the
 * customer it is attached to), sent by a platform with Stripe-Account, makes a new PaymentMethod
 * of the connected account with the same card, for direct charges on that account.
 */
#ifndef TENDER_API_PM_CLONE_H
#define TENDER_API_PM_CLONE_H

#include "http/req.h"

int pm_clone_h_create(struct req *r);

struct db;
struct vault_card_info;
/* 0 when r may clone a card to a connected account (a secret key with Stripe-Account), else
 * -1 with Stripe's 400 on param. */
int pm_clone_allowed(struct req *r, const char *param);
/* Inside a write of the connected account r acts as: the platform's card src_id (a card
 * PaymentMethod or card source; attached to customer, which must then be given, and be its) is
 * sealed again by the vault as card_id of the account, its public facts into ret_info, its
 * fingerprint and its billing details JSON (or NULL). Errors name param. 0, or -1 with r->err.
 * Shared by PaymentMethod cloning and card tokens made from a platform customer
 * (tokens.c). */
int pm_clone_card(struct req *r, struct db *db, const char *src_id, const char *customer,
		  const char *param, const char *card_id, struct vault_card_info *ret_info,
		  char ret_fingerprint[24], const char **ret_billing);

#endif
