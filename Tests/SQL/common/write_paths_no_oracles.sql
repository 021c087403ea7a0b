-- Unknown and foreign ids answer alike, and refusals reveal nothing (issue 10, items 6, 8, 9,
-- 11 and 13): core.get_org_id_for_unit tells outsiders nothing, members cannot write the
-- audit log (nor probe ids through it), an outsider's refused membership insert says nothing
-- of the organization's seats, and the operator can enable tenancy on an application table.
begin;
select plan(16);
select tests.world();

-- Item 6: get_org_id_for_unit.
select tests.authenticate_as(tests.id('team_a'));
select is(core.get_org_id_for_unit(tests.id('unit_a1')), tests.id('org_a'), 'a member learns the organization of their own units');
select tests.authenticate_as(tests.id('owner_b'));
select is(core.get_org_id_for_unit(tests.id('unit_a1')), null, 'another organization''s owner learns nothing of unit A1');
select is(core.get_org_id_for_unit(gen_random_uuid()), null, 'exactly as for an unknown unit');
select tests.authenticate_as(tests.id('stranger'));
select is(core.get_org_id_for_unit(tests.id('unit_a1')), null, 'a user of no organization learns nothing either');
select tests.authenticate_service_role();
select is(core.get_org_id_for_unit(tests.id('unit_a1')), tests.id('org_a'), 'the service role reads every unit');

-- Items 8 and 9: core.log_audit is the operator's.
select tests.authenticate_as(tests.id('team_a'));
select set_config('tests.audit_before', (select count(*)::text from tests.rows('core.audit_logs')), true);
select throws_ok(format($$select core.log_audit('export', 'core.units', %L, 'forged entry', '{}')$$, tests.id('unit_a1')),
  '42501', null, 'a team member cannot write an entry into the audit log');
select tests.authenticate_as(tests.id('owner_b'));
select throws_ok(format($$select core.log_audit('probe', 'core.units', %L, 'probe', '{}')$$, tests.id('unit_a1')),
  '42501', 'permission denied for function log_audit', 'an outsider probing a real id of org A is refused …');
select throws_ok(format($$select core.log_audit('probe', 'core.units', %L, 'probe', '{}')$$, gen_random_uuid()),
  '42501', 'permission denied for function log_audit', '… exactly as for a random id');
select is((select count(*)::text from tests.rows('core.audit_logs')), current_setting('tests.audit_before'),
  'no audit entry was written');
select tests.authenticate_service_role(tests.id('owner_a'));
select lives_ok($$select core.log_audit('export', 'core.organizations', null, 'nightly export', '{}')$$,
  'the service role writes application events into the log');

-- Item 11: a full organization tells an outsider nothing about its seats.
select tests.authenticate_service_role();
insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount, metadata)
values ('price_five', 'Five seats', 'month', 900, '{"features": [], "limits": {"max_members": 5}}');
select outcome from platform.record_billing_event('stripe', null, jsonb_build_object(
  'id', 'evt_oracle', 'type', 'customer.subscription.created', 'created', 1767225600,
  'data', jsonb_build_object('object', jsonb_build_object('id', 'sub_oracle', 'customer', 'cus_oracle',
    'status', 'active', 'cancel_at_period_end', false, 'current_period_end', 4102444800,
    'metadata', jsonb_build_object('organization_id', tests.id('org_a')),
    'items', jsonb_build_object('data', jsonb_build_array(jsonb_build_object('price', jsonb_build_object('id', 'price_five'))))))));
select tests.authenticate_as(tests.id('owner_b'));
select throws_ok(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                        tests.id('owner_b'), tests.id('org_a'), tests.role_id('team')),
  '42501', 'new row violates row-level security policy for table "memberships"',
  'an outsider''s insert into a full organization is refused on permission, not on seats');
select is(tests.membership_state(tests.id('org_a'), tests.id('owner_b')), 'none', 'nothing was added');
select tests.reset_identity();
select tests.remember('colleague', tests.create_user('colleague.seats@smta.test'));
select tests.add_member(tests.create_org(tests.id('owner_a'), 'Org S'), tests.id('colleague'));
select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                        tests.id('colleague'), tests.id('org_a'), tests.role_id('team')),
  'P0001', 'The organization has reached its seat limit of 5 members',
  'the owner is told about the seat limit');

-- Item 13: the operator enables tenancy on an application table; owners and managers invite
-- into any unit of their organization without joining it first.
reset role;
create table app.write_paths_projects (id uuid primary key default gen_random_uuid(), organization_id uuid not null);
select tests.authenticate_service_role();
select lives_ok($$select core.enable_tenancy('app.write_paths_projects')$$, 'the service role enables tenancy on an app table');
select tests.authenticate_as(tests.id('owner_b'));
select tests.remember('unit_b3', (select id from public.create_unit(tests.id('org_b'), 'Unit B3')));
select tests.authenticate_as(tests.id('manager_b'));
select lives_ok(format('select * from public.create_invitation(%L, %L, %L, %L)', 'into.b3@smta.test', tests.id('org_b'), tests.role_id('team'), tests.id('unit_b3')),
  'a manager invites into a unit they do not belong to');
select tests.authenticate_as(tests.id('team_b'));
select throws_ok(format('select * from public.create_invitation(%L, %L, %L, %L)', 'into.b3.too@smta.test', tests.id('org_b'), tests.role_id('team'), tests.id('unit_b3')),
  '42501', 'You must be a member of this unit to invite users to it', 'a team member outside the unit may not');

select tests.reset_identity();
select * from finish();
rollback;
