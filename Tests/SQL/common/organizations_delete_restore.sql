-- delete_organization / restore_organization: only the super_admin soft-deletes the
-- organization (it is marked, never removed, and disappears from every read path for every
-- member) and only they restore it, after which it is back for its members.
begin;
select plan(20);
select tests.world();

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select public.delete_organization(%L)', tests.id('org_a')),
  'a manager may not delete the organization', '{42501}');
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select public.delete_organization(%L)', tests.id('org_a')),
  'a team member may not delete the organization', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.delete_organization(%L)', tests.id('org_a')),
  'another organization''s super_admin may not delete it');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'is_deleted', 'false',
  'refused deletions left the organization live');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.delete_organization(%L)', tests.id('org_a')),
  'the super_admin deletes the organization');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'is_deleted', 'true',
  'the organization row is kept and marked deleted');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'deleted_by', tests.id('owner_a')::text,
  'deleted_by records who deleted it');
select isnt(tests.row_json('core.organizations', tests.id('org_a')) ->> 'deleted_at', null,
  'deleted_at is set');
select tests.sees_nothing(format('select count(*) from public.get_organization(%L)', tests.id('org_a')),
  'the deleted organization is gone from get_organization');
select is_empty(format('select 1 from public.list_my_organizations() where id = %L', tests.id('org_a')),
  'the deleted organization is gone from the super_admin''s list');
select tests.refused(format('select public.delete_organization(%L)', tests.id('org_a')),
  'deleting it again is refused');

select tests.authenticate_as(tests.id('team_a'));
select is_empty('select 1 from public.list_my_organizations()',
  'members no longer list the deleted organization');
select tests.sees_nothing(format('select count(*) from public.list_units(%L)', tests.id('org_a')),
  'members no longer see its units');
select tests.refused(format('select count(*) from public.restore_organization(%L)', tests.id('org_a')),
  'a team member may not restore it');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select count(*) from public.restore_organization(%L)', tests.id('org_a')),
  'an outsider may not restore it');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select count(*) from public.restore_organization(%L)', tests.id('org_a')),
  'the super_admin restores the organization');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'is_deleted', 'false',
  'the organization is live again');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')],
  'the super_admin is the live super_admin again');
select tests.authenticate_as(tests.id('team_a'));
select tests.sees_something(format('select count(*) from public.get_organization(%L)', tests.id('org_a')),
  'its members see the restored organization again');
select tests.sees_something(format('select count(*) from public.list_units(%L)', tests.id('org_a')),
  'its members see its units again');

select tests.reset_identity();
select * from finish();
rollback;
