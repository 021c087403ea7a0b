-- Entitlements: public.get_subscription shows members their organization's subscription;
-- public.org_has_feature answers from the entitling (active or trialing) subscription's product
-- metadata, overridden per organization by platform_subscription_overrides; non-members get
-- nothing and false, never an error, also inside a policy.
begin;
select plan(20);

select tests.world();
insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount, metadata)
values ('price_small', 'Small', 'month', 1900, '{"features": ["sso", "exports"], "limits": {"max_members": 6}}'),
       ('price_big', 'Big', 'month', 9900, '{"features": ["sso", "exports", "audit_export"]}');

select ok(not has_function_privilege('anon', 'public.get_subscription(uuid)', 'EXECUTE')
          and not has_function_privilege('anon', 'public.org_has_feature(uuid, text)', 'EXECUTE'),
  'anon executes neither get_subscription nor org_has_feature');
select ok(has_function_privilege('authenticated', 'public.get_subscription(uuid)', 'EXECUTE')
          and has_function_privilege('authenticated', 'public.org_has_feature(uuid, text)', 'EXECUTE'),
  'authenticated executes both');
select is(
  (select string_agg(p.provolatile::text || ' ' || p.prosecdef::text || ' ' || array_to_string(p.proconfig, ','), '; ' order by p.proname)
   from pg_proc p where p.oid in ('public.get_subscription(uuid)'::regprocedure, 'public.org_has_feature(uuid, text)'::regprocedure)),
  's true search_path=""; s true search_path=""',
  'both are STABLE and SECURITY DEFINER with a pinned search_path');

-- No subscription yet.
select tests.authenticate_as(tests.id('team_a'));
select is_empty(format('select * from public.get_subscription(%L)', tests.id('org_a')),
  'no subscription: no row');
select is(public.org_has_feature(tests.id('org_a'), 'sso'), false, 'no subscription: no feature');

-- A Stripe subscription to Small, through the ledger.
select tests.authenticate_service_role();
select outcome from platform.record_billing_event('stripe', null, jsonb_build_object(
  'id', 'evt_ent1', 'type', 'customer.subscription.updated', 'created', 1767225600,
  'data', jsonb_build_object('object', jsonb_build_object('id', 'sub_ent_a', 'customer', 'cus_ent_a',
    'status', 'active', 'cancel_at_period_end', false, 'current_period_end', 4102444800,
    'metadata', jsonb_build_object('organization_id', tests.id('org_a')),
    'items', jsonb_build_object('data', jsonb_build_array(jsonb_build_object('price', jsonb_build_object('id', 'price_small'))))))));

select tests.authenticate_as(tests.id('team_a'));
select results_eq(format('select * from public.get_subscription(%L)', tests.id('org_a')),
  $$values ('stripe'::text, 'Small'::text, 'active'::text, to_timestamp(4102444800), false)$$,
  'a member reads provider, plan, status, period end and cancel flag');
select is(public.org_has_feature(tests.id('org_a'), 'sso'), true, 'a feature of the plan is on');
select is(public.org_has_feature(tests.id('org_a'), 'audit_export'), false, 'a feature of another plan is off');
select is(public.org_has_feature(tests.id('org_a'), null), false, 'a null feature is off');

select tests.authenticate_as(tests.id('owner_b'));
select is_empty(format('select * from public.get_subscription(%L)', tests.id('org_a')),
  'another organization''s member gets no row');
select is(public.org_has_feature(tests.id('org_a'), 'sso'), false, 'and false, not an error');
select tests.authenticate_as(tests.id('stranger'));
select is(public.org_has_feature(gen_random_uuid(), 'sso'), false, 'an unknown organization gives false');

-- org_has_feature inside a policy: an app table whose rows need the feature.
reset role;
create table pg_temp.sso_settings (organization_id uuid not null, value text);
alter table pg_temp.sso_settings enable row level security;
create policy "members of organizations with sso see their settings" on pg_temp.sso_settings
  for select to app_user using (public.org_has_feature(organization_id, 'sso'));
grant select on pg_temp.sso_settings to app_user;
insert into pg_temp.sso_settings values (tests.id('org_a'), 'a'), (tests.id('org_b'), 'b');
select tests.authenticate_as(tests.id('team_a'));
select results_eq('select value from pg_temp.sso_settings', $$values ('a'::text)$$,
  'in a policy: members see their organization''s row, the other organization''s gives false without error');

-- Overrides: booleans switch features, numbers set limits, a plan override names a product.
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'audit_export', 'true');
select platform.set_platform_override(tests.id('org_a'), 'exports', 'false');
select tests.authenticate_as(tests.id('team_a'));
select is(public.org_has_feature(tests.id('org_a'), 'audit_export'), true, 'an override turns a feature on');
select is(public.org_has_feature(tests.id('org_a'), 'exports'), false, 'an override turns a plan feature off');
select is(public.org_has_feature(tests.id('org_a'), 'sso'), true, 'other plan features stay');

select tests.authenticate_service_role();
reset role;
insert into platform.platform_subscription_overrides (organization_id, plan_override, features, reason)
values (tests.id('org_b'), 'Big', '{}', 'comped for a partner');
select tests.authenticate_as(tests.id('team_b'));
select is(public.org_has_feature(tests.id('org_b'), 'audit_export'), true,
  'a plan override (by product name) grants that product''s features without a subscription');
select is_empty(format('select * from public.get_subscription(%L)', tests.id('org_b')),
  'get_subscription still shows no subscription for it');

-- A subscription that is canceled stops the features.
select tests.authenticate_service_role();
select outcome from platform.record_billing_event('stripe', null, jsonb_build_object(
  'id', 'evt_ent2', 'type', 'customer.subscription.deleted', 'created', 1767225700,
  'data', jsonb_build_object('object', jsonb_build_object('id', 'sub_ent_a', 'customer', 'cus_ent_a',
    'status', 'canceled', 'cancel_at_period_end', false, 'current_period_end', 4102444800,
    'items', jsonb_build_object('data', jsonb_build_array(jsonb_build_object('price', jsonb_build_object('id', 'price_small'))))))));
select tests.authenticate_as(tests.id('team_a'));
select is(public.org_has_feature(tests.id('org_a'), 'sso'), false, 'a canceled subscription grants nothing');
select results_eq(format('select status from public.get_subscription(%L)', tests.id('org_a')),
  $$values ('canceled'::text)$$, 'get_subscription shows it canceled');

select tests.reset_identity();
select * from finish();
rollback;
