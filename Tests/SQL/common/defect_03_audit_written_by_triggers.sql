-- Defect 3 (audit written by function bodies, without organization, so get_audit_log(org)
-- returned nothing): changes are audited by triggers in the same transaction, with the
-- organization and the actor, for API calls and direct writes alike; get_audit_log returns
-- them to members only; the log is append-only and never holds an invitation token.
begin;
select plan(17);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

select tests.authenticate_as(tests.id('owner_a'));
select count(*) from public.update_organization(tests.id('org_a'), 'Org A renamed');

select tests.reset_identity();
select is(
  tests.count_rows('core.audit_logs', jsonb_build_object(
    'organization_id', tests.id('org_a'), 'actor_id', tests.id('owner_a'),
    'target_table', 'core.organizations', 'target_id', tests.id('org_a'), 'action', 'update')),
  1::bigint,
  'renaming the organization wrote one audit row with its organization, actor, table, row and action');

select tests.authenticate_as(tests.id('team_a'));
select ok(exists (
    select 1 from public.get_audit_log(tests.id('org_a'), 100)
    where target_table = 'core.organizations' and target_id = tests.id('org_a')
      and actor_id = tests.id('owner_a') and action = 'update'),
  'get_audit_log returns the trigger-written row to a member of the organization');
select is((select count(*)::int from public.get_audit_log(tests.id('org_a'), 2)), 2,
  'get_audit_log honours p_limit');
select ok((select bool_and(created_at is not null and id is not null) from public.get_audit_log(tests.id('org_a'), 100)),
  'audit rows carry an id and a time');

-- A direct write (no API function) by a manager is audited too, with the unit's organization.
select tests.authenticate_as(tests.id('manager_a'));
update core.units set name = 'Unit A1 (renamed directly)' where id = tests.id('unit_a1');
select tests.reset_identity();
select is(
  tests.count_rows('core.audit_logs', jsonb_build_object(
    'organization_id', tests.id('org_a'), 'actor_id', tests.id('manager_a'),
    'target_table', 'core.units', 'target_id', tests.id('unit_a1'), 'action', 'update')),
  1::bigint,
  'a manager''s direct UPDATE of a unit is audited with the organization and the manager');

-- Unit memberships reach their organization through the unit.
select tests.authenticate_as(tests.id('owner_a'));
select public.remove_member_from_unit(tests.id('unit_a1'), tests.id('member_a'));
select tests.reset_identity();
select is(
  tests.count_rows('core.audit_logs', jsonb_build_object(
    'organization_id', tests.id('org_a'), 'actor_id', tests.id('owner_a'),
    'target_table', 'core.unit_memberships', 'action', 'soft_delete')),
  1::bigint,
  'removing a unit member is audited as a soft delete under the unit''s organization');

-- Invitations are audited without their token.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', r.token, true), tests.remember('inv', r.id)
  from public.create_invitation('audited@smta.test', tests.id('org_a'), tests.id('team_role')) r;
select tests.reset_identity();
select is(
  tests.count_rows('core.audit_logs', jsonb_build_object('organization_id', tests.id('org_a'),
    'target_table', 'core.invitations', 'target_id', tests.id('inv'), 'action', 'insert')),
  1::bigint,
  'creating an invitation is audited');
select is_empty(
  format($$select 1 from core.audit_logs a where a::text like '%%' || %L || '%%'$$, current_setting('tests.token')),
  'no audit row holds the raw invitation token');
select is_empty(
  format($$select 1 from core.audit_logs a where a::text like '%%' || %L || '%%'$$,
         tests.row_json('core.invitations', tests.id('inv')) ->> 'token'),
  'no audit row holds the stored token hash');

-- Outsiders see nothing of the log.
select tests.authenticate_as(tests.id('owner_b'));
select tests.sees_nothing(format('select count(*) from public.get_audit_log(%L, 100)', tests.id('org_a')),
  'an outsider gets nothing from get_audit_log');
select is((select count(*)::int from core.audit_logs where organization_id = tests.id('org_a')), 0,
  'an outsider reads no audit row of the organization directly');
select tests.authenticate_as(tests.id('stranger'));
select tests.sees_nothing(format('select count(*) from public.get_audit_log(%L, 100)', tests.id('org_a')),
  'a user in no organization gets nothing from get_audit_log');

-- Append-only: nobody but the owner rewrites or removes audit rows.
select tests.authenticate_as(tests.id('owner_a'));
select tests.no_change(format($$update core.audit_logs set summary = 'forged' where organization_id = %L$$, tests.id('org_a')),
  'the super_admin cannot rewrite audit rows');
select tests.no_change(format('delete from core.audit_logs where organization_id = %L', tests.id('org_a')),
  'the super_admin cannot delete audit rows');
select tests.refused(format($$insert into core.audit_logs (organization_id, actor_id, target_table, action) values (%L, %L, 'core.units', 'forged')$$,
                            tests.id('org_a'), tests.id('owner_b')),
  'a member cannot insert forged audit rows', '{42501}');
select tests.authenticate_service_role();
select tests.no_change(format($$update core.audit_logs set summary = 'forged' where organization_id = %L$$, tests.id('org_a')),
  'the service role cannot rewrite audit rows');
select tests.no_change(format('delete from core.audit_logs where organization_id = %L', tests.id('org_a')),
  'the service role cannot delete audit rows');

select tests.reset_identity();
select * from finish();
rollback;
