/* Every route table of the API. Literal routes must come before {id} routes of the same prefix
 * inside a table (router_match takes the first match). */
#include "api/resources.h"

const struct route *const api_route_tables[] = {
    customers_routes,
    balance_routes,
    events_routes,
    payment_intents_routes,
    charges_routes,
    refunds_routes,
    balance_transactions_routes,
    payment_methods_routes,
    webhook_endpoints_routes,
    disputes_routes,
    setup_intents_routes,
    products_routes,
    payouts_routes,
    payment_links_routes,
    checkout_routes,
    transfers_routes,
    application_fees_routes,
    accounts_routes,
    subscriptions_routes,
    invoices_routes,
    invoice_items_routes,
    subscription_items_routes,
    test_clocks_routes,
    coupons_routes,
    promotion_codes_routes,
    NULL,
};
