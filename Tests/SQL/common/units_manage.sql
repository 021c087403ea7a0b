-- Units: list_units, get_unit, list_my_units, get_user_units, create_unit, update_unit,
-- delete_unit, restore_unit — members see their organization's units, outsiders nothing;
-- members create and edit units (SMTA 0.8 lets any member do so); only the super_admin deletes
-- and restores them.
begin;
select plan(29);
select tests.world();

select tests.authenticate_as(tests.id('team_a'));
select bag_eq(format('select id from public.list_units(%L)', tests.id('org_a')),
  format('values (%L::uuid), (%L::uuid)', tests.id('unit_a1'), tests.id('unit_a2')),
  'list_units lists the organization''s units to a member');
select results_eq(format('select id, organization_id, name from public.get_unit(%L)', tests.id('unit_a1')),
  format($$values (%L::uuid, %L::uuid, 'Unit A1')$$, tests.id('unit_a1'), tests.id('org_a')),
  'get_unit returns a unit of the member''s organization');
select results_eq('select id, organization_id, role from public.list_my_units()',
  format($$values (%L::uuid, %L::uuid, 'team')$$, tests.id('unit_a1'), tests.id('org_a')),
  'list_my_units lists only the units the caller belongs to, with their unit role');
select results_eq(format('select id, role from public.get_user_units(%L)', tests.id('org_a')),
  format($$values (%L::uuid, 'team')$$, tests.id('unit_a1')),
  'get_user_units lists the caller''s units in that organization');
select tests.sees_nothing(format('select count(*) from public.list_units(%L)', tests.id('org_b')),
  'an outsider lists no units of another organization');
select tests.sees_nothing(format('select count(*) from public.get_unit(%L)', tests.id('unit_b1')),
  'an outsider gets no unit of another organization');
select tests.sees_nothing(format('select count(*) from public.get_user_units(%L)', tests.id('org_b')),
  'get_user_units of another organization is empty');
select tests.authenticate_as(tests.id('stranger'));
select is_empty('select * from public.list_my_units()', 'a user in no organization lists no units');
select tests.authenticate_as(tests.id('team_a'));

select tests.allowed(format($$select count(*) from public.create_unit(%L, 'Team unit')$$, tests.id('org_a')),
  'a team member creates a unit (SMTA 0.8: any member of the organization)');
select tests.allowed(format($$select count(*) from public.update_unit(%L, 'Renamed by team')$$, tests.id('unit_a1')),
  'a team member renames a unit (SMTA 0.8: any member of the organization)');

select tests.authenticate_as(tests.id('manager_a'));
select is((select count(*)::int from public.create_unit(tests.id('org_a'), 'Kitchen', 'Back of house')), 1,
  'a manager creates a unit and gets it back');
select tests.reset_identity();
select tests.remember('kitchen', (select (r ->> 'id')::uuid from tests.rows('core.units', '{"name": "Kitchen"}') r));
select is(tests.row_json('core.units', tests.id('kitchen')) ->> 'organization_id', tests.id('org_a')::text,
  'the unit belongs to the organization');
select is(tests.row_json('core.units', tests.id('kitchen')) ->> 'created_by', tests.id('manager_a')::text,
  'created_by records the creator');
select isnt(tests.row_json('core.unit_meta', tests.id('kitchen')), null, 'the unit got its unit_meta row');

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format($$select count(*) from public.create_unit(%L, '')$$, tests.id('org_a')),
  'an empty unit name is refused', '{22023}');
select results_eq(format($$select id, name, description from public.update_unit(%L, 'Kitchen 2', 'Renamed')$$, tests.id('kitchen')),
  format($$values (%L::uuid, 'Kitchen 2', 'Renamed')$$, tests.id('kitchen')),
  'a manager renames a unit');
select tests.refused(format($$select count(*) from public.update_unit(%L, '')$$, tests.id('kitchen')),
  'an empty name is refused on update', '{22023}');

select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format($$select count(*) from public.create_unit(%L, 'Intruder')$$, tests.id('org_a')),
  'an outsider may not create a unit in the organization');
select tests.refused(format($$select count(*) from public.update_unit(%L, 'Hijacked')$$, tests.id('unit_a1')),
  'an outsider may not rename a unit');
select tests.refused(format('select public.delete_unit(%L)', tests.id('unit_a1')),
  'an outsider may not delete a unit');
select is(tests.count_rows('core.units', jsonb_build_object('organization_id', tests.id('org_a'))), 3::bigint,
  'refused calls created no unit');
select is(tests.row_json('core.units', tests.id('unit_a1')) ->> 'name', 'Unit A1', 'refused calls left unit_a1''s name alone');

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select public.delete_unit(%L)', tests.id('unit_a2')),
  'a manager may not delete a unit', '{42501}');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.delete_unit(%L)', tests.id('unit_a2')), 'the super_admin deletes a unit');
select is(tests.row_json('core.units', tests.id('unit_a2')) ->> 'is_deleted', 'true', 'the unit is soft-deleted, not removed');
select tests.sees_nothing(format('select count(*) from public.get_unit(%L)', tests.id('unit_a2')),
  'the deleted unit is gone from get_unit');

select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select count(*) from public.restore_unit(%L)', tests.id('unit_a2')),
  'a team member may not restore the unit');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select count(*) from public.restore_unit(%L)', tests.id('unit_a2')), 'the super_admin restores the unit');
select tests.sees_something(format('select count(*) from public.get_unit(%L)', tests.id('unit_a2')),
  'the restored unit is visible again');

select tests.reset_identity();
select * from finish();
rollback;
