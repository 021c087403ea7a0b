-- Soft-deleted rows are invisible to members through direct SELECT, and a deleted organization
-- closes the gate at once: its units, memberships, files and invitations disappear for members
-- in the same transaction (no stale cache).
begin;
select plan(10);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('inv', id) from public.create_invitation('invited@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.reset_identity();
update core.units set is_deleted = true, deleted_at = now() where id = tests.id('unit_a2');
update core.organization_files set is_deleted = true, deleted_at = now() where id = tests.id('file_a');
update core.memberships set is_deleted = true, deleted_at = now()
 where organization_id = tests.id('org_a') and user_id = tests.id('loner_a');

select tests.authenticate_as(tests.id('team_a'));
select is((select count(*)::int from core.units where id = tests.id('unit_a2')), 0, 'a deleted unit is invisible');
select is((select count(*)::int from core.organization_files where id = tests.id('file_a')), 0, 'a deleted file is invisible');
select is((select count(*)::int from core.memberships where user_id = tests.id('loner_a')), 0, 'a deleted membership is invisible');
select is((select count(*)::int from core.units where id = tests.id('unit_a1')), 1, 'live rows stay visible');

select tests.authenticate_as(tests.id('loner_a'));
select is((select count(*)::int from core.units where organization_id = tests.id('org_a')), 0,
  'a removed member sees none of the organization''s units');

-- Deleting the organization itself closes the gate for everyone, at once.
select tests.reset_identity();
update core.organizations set is_deleted = true, deleted_at = now() where id = tests.id('org_a');
select tests.authenticate_as(tests.id('team_a'));
select is((select count(*)::int from core.organizations where id = tests.id('org_a')), 0, 'a deleted organization is invisible');
select is((select count(*)::int from core.units where organization_id = tests.id('org_a')), 0, 'its units are invisible');
select is((select count(*)::int from core.memberships where organization_id = tests.id('org_a')), 0, 'its memberships are invisible');
select is((select count(*)::int from core.invitations where organization_id = tests.id('org_a')), 0, 'its invitations are invisible');
select ok(not core.is_org_member(tests.id('org_a')), 'core.is_org_member is false for a deleted organization');

select tests.reset_identity();
select * from finish();
rollback;
