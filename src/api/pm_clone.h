/*
 * Connect's cloning of PaymentMethods: POST /v1/payment_methods with payment_method (and the
 * customer it is attached to), sent by a platform with Stripe-Account, makes a new PaymentMethod
 * of the connected account with the same card, for direct charges on that account.
 */
#ifndef TENDER_API_PM_CLONE_H
#define TENDER_API_PM_CLONE_H

#include "http/req.h"

int pm_clone_h_create(struct req *r);

#endif
