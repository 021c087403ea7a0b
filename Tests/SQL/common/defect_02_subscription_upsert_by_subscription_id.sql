-- Defect 2 (subscription upserts targeted organization_id, which has no unique constraint):
-- record_subscription_update upserts by the provider's subscription id — a repeated event
-- updates its row, a second subscription of the same organization gets its own row.
begin;
select plan(6);
select tests.world();

select tests.authenticate_service_role();
select platform.record_subscription_update(tests.id('org_a'), 'sub_1', 'pro', 'active', now() + interval '30 days', false);
select lives_ok(format($$select platform.record_subscription_update(%L, 'sub_1', 'pro', 'past_due', now() + interval '30 days', true)$$, tests.id('org_a')),
  'an update for the same subscription succeeds');
select is((select count(*)::int from platform.billing_subscriptions where provider_subscription_id = 'sub_1'), 1,
  'the same subscription id keeps one row');
select results_eq($$select status, cancel_at_period_end from platform.billing_subscriptions where provider_subscription_id = 'sub_1'$$,
  $$values ('past_due', true)$$, 'the row carries the latest status');
select lives_ok(format($$select platform.record_subscription_update(%L, 'sub_2', 'addon', 'active', null, false)$$, tests.id('org_a')),
  'a second subscription of the same organization succeeds');
select is((select count(*)::int from platform.billing_subscriptions where organization_id = tests.id('org_a')), 2,
  'the organization has two subscription rows');
select is((select status from platform.billing_subscriptions where provider_subscription_id = 'sub_1'), 'past_due',
  'the second subscription left the first alone');

select tests.reset_identity();
select * from finish();
rollback;
