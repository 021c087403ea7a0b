-- Subscription products: the operator adds them (platform.add_subscription_product, also
-- listed, inactive ones included, by platform.list_all_subscription_products); signed-in users list the active,
-- non-deleted ones with public.list_subscription_products.
begin;
select plan(7);
select tests.world();

select tests.authenticate_service_role();
select is((select name from platform.add_subscription_product('price_pro_m', 'Pro', 'Pro monthly', 'month', 1900, true, '{}')),
  'Pro', 'the service role adds an active product');
select lives_ok($$select platform.add_subscription_product('price_old_m', 'Old', 'Retired plan', 'month', 900, false, '{}')$$,
  'the service role adds an inactive product');
select lives_ok($$select platform.add_subscription_product('price_gone_m', 'Gone', 'Deleted plan', 'month', 500, true, '{}')$$,
  'the service role adds a product it will delete');
update platform.subscription_products set is_deleted = true, deleted_at = now() where paymentprocessor_price_id = 'price_gone_m';
select bag_eq($$select paymentprocessor_price_id from platform.list_all_subscription_products()
                where paymentprocessor_price_id like 'price\_%\_m'$$,
  $$values ('price_pro_m'), ('price_old_m')$$,
  'list_all_subscription_products lists active and inactive products for the operator, not deleted ones');

select tests.authenticate_as(tests.id('team_a'));
select bag_eq('select name from public.list_subscription_products()', $$values ('Pro')$$,
  'a member lists only the active, non-deleted products');
select results_eq($$select amount, billing_interval from public.list_subscription_products() where name = 'Pro'$$,
  $$values (1900, 'month')$$, 'with their price and interval');
select tests.authenticate_as(tests.id('stranger'));
select bag_eq('select name from public.list_subscription_products()', $$values ('Pro')$$,
  'a user in no organization sees the same catalogue');

select tests.reset_identity();
select * from finish();
rollback;
