-- Concurrency: five sessions deliver the same Stripe event at the same moment (a provider
-- retrying while the first delivery is still being processed). Exactly one applies it, four
-- answer duplicate, and the ledger holds one row. The fixtures are committed through dblink
-- sessions and removed at the end.
begin;
select plan(6);
set local client_min_messages = warning;

select tests.remember('owner', gen_random_uuid()), tests.remember('org', gen_random_uuid());
select set_config('tests.tag', left(tests.id('org')::text, 8), true);
select set_config('tests.price', 'price_race_' || current_setting('tests.tag'), true);
select set_config('tests.event', 'evt_race_' || current_setting('tests.tag'), true);
select set_config('tests.payload', jsonb_build_object(
  'id', current_setting('tests.event'), 'type', 'customer.subscription.created', 'created', 1767225600,
  'data', jsonb_build_object('object', jsonb_build_object(
    'id', 'sub_race_' || current_setting('tests.tag'), 'customer', 'cus_race_' || current_setting('tests.tag'),
    'status', 'active', 'cancel_at_period_end', false, 'current_period_end', 4102444800,
    'metadata', jsonb_build_object('organization_id', tests.id('org')),
    'items', jsonb_build_object('data', jsonb_build_array(jsonb_build_object(
      'price', jsonb_build_object('id', current_setting('tests.price')))))))
)::text, true);

select tests.dblink_open('setup');
select tests.dblink_perform('setup', format(
  $$tests.create_user(%L, null, null, %L), tests.create_org(%L, %L, %L)$$,
  'owner.' || current_setting('tests.tag') || '@smta.test', tests.id('owner'),
  tests.id('owner'), 'Race ' || current_setting('tests.tag'), tests.id('org')));
select extensions.dblink_exec('setup', format(
  $$insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount)
    values (%L, 'Race', 'month', 100)$$, current_setting('tests.price')));

-- Five sessions as the service role; each sends the call, none waits for the others.
create temporary table outcomes (session text, outcome text) on commit drop;
create function pg_temp.race() returns void language plpgsql as $$
declare
  v_session text;
begin
  foreach v_session in array array['s1', 's2', 's3', 's4', 's5'] loop
    perform tests.dblink_open(v_session);
    perform extensions.dblink_exec(v_session, 'set role service_role');
  end loop;
  foreach v_session in array array['s1', 's2', 's3', 's4', 's5'] loop
    perform extensions.dblink_send_query(v_session, format(
      'select outcome from platform.record_billing_event(%L, null, %L)', 'stripe', current_setting('tests.payload')));
  end loop;
  foreach v_session in array array['s1', 's2', 's3', 's4', 's5'] loop
    while extensions.dblink_is_busy(v_session) = 1 loop
      perform pg_sleep(0.02);
    end loop;
    insert into outcomes
    select v_session, coalesce(r.outcome, extensions.dblink_error_message(v_session))
    from extensions.dblink_get_result(v_session, false) as r(outcome text);
    perform extensions.dblink_disconnect(v_session);
  end loop;
end
$$;
select pg_temp.race();

select results_eq('select outcome, count(*)::int from outcomes group by outcome order by outcome',
  $$values ('applied'::text, 1), ('duplicate'::text, 4)$$,
  'five deliveries of one event at the same moment: one applied, four duplicate');
select is(tests.count_rows('platform.billing_events', jsonb_build_object('event_id', current_setting('tests.event'))),
  1::bigint, 'the ledger holds the event once');
select is(tests.count_rows('platform.billing_subscriptions', jsonb_build_object('organization_id', tests.id('org'))),
  1::bigint, 'one subscription results');

-- Clean up everything committed, and check that nothing is left.
select extensions.dblink_exec('setup', format(
  $$delete from platform.billing_events where event_id = %L$$, current_setting('tests.event')));
select extensions.dblink_exec('setup', format(
  $$delete from platform.platform_action_logs l using platform.billing_subscriptions s
    where l.target_id = s.id and s.organization_id = %L$$, tests.id('org')));
select tests.dblink_perform('setup', format('tests.purge(array[%L]::uuid[], array[%L]::uuid[])',
  tests.id('org'), tests.id('owner')));
select extensions.dblink_exec('setup', format(
  $$delete from platform.subscription_products where paymentprocessor_price_id = %L$$, current_setting('tests.price')));
select extensions.dblink_disconnect('setup');
select is(tests.count_rows('platform.billing_events', jsonb_build_object('event_id', current_setting('tests.event'))),
  0::bigint, 'cleanup removed the ledger row');
select is(tests.count_rows('core.organizations', jsonb_build_object('id', tests.id('org'))), 0::bigint,
  'cleanup removed the organization');
select is(tests.count_rows('platform.platform_action_logs', jsonb_build_object('action_type', 'billing_event')), 0::bigint,
  'cleanup removed the action log row');

select * from finish();
rollback;
