-- update_organization / update_organization_meta: only the organization's super_admin edits
-- it; managers, team members and outsiders are refused and change nothing; bad input changes
-- nothing; a logo must be one of the organization's own files.
begin;
select plan(16);
select tests.world();

select tests.authenticate_as(tests.id('owner_a'));
select results_eq(
  format($$select id, name, description from public.update_organization(%L, 'Org A2', 'Renamed')$$, tests.id('org_a')),
  format($$values (%L::uuid, 'Org A2', 'Renamed')$$, tests.id('org_a')),
  'the super_admin renames the organization and gets the new row back');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'name', 'Org A2',
  'the new name is stored');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'updated_by', tests.id('owner_a')::text,
  'updated_by records the super_admin');

select tests.refused(format($$select count(*) from public.update_organization(%L, '')$$, tests.id('org_a')),
  'an empty name is refused as invalid input', '{22023}');

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format($$select count(*) from public.update_organization(%L, 'By manager')$$, tests.id('org_a')),
  'a manager may not rename the organization', '{42501}');
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format($$select count(*) from public.update_organization(%L, 'By team')$$, tests.id('org_a')),
  'a team member may not rename the organization', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format($$select count(*) from public.update_organization(%L, 'By outsider')$$, tests.id('org_a')),
  'another organization''s super_admin may not rename it');
select is(tests.row_json('core.organizations', tests.id('org_a')) ->> 'name', 'Org A2',
  'refused renames left the name alone');

select tests.authenticate_as(tests.id('owner_a'));
select results_eq(
  format($$select id, address, timezone, locale from public.update_organization_meta(%L, null, 'Via Roma 1', 'Europe/Rome', 'it-IT')$$, tests.id('org_a')),
  format($$values (%L::uuid, 'Via Roma 1', 'Europe/Rome', 'it-IT')$$, tests.id('org_a')),
  'the super_admin updates the organization''s meta and gets it back');
select is(tests.row_json('core.organizations_meta', tests.id('org_a')) ->> 'timezone', 'Europe/Rome',
  'the meta update is stored');
select tests.allowed(format('select count(*) from public.update_organization_meta(%L, %L)', tests.id('org_a'), tests.id('file_a')),
  'the logo may be one of the organization''s own files');
select tests.refused(format('select count(*) from public.update_organization_meta(%L, %L)', tests.id('org_a'), tests.id('file_b')),
  'the logo may not be another organization''s file', '{22023,P0002,42501}');

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format($$select count(*) from public.update_organization_meta(%L, null, 'Elsewhere')$$, tests.id('org_a')),
  'a manager may not update the organization''s meta', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format($$select count(*) from public.update_organization_meta(%L, null, 'Elsewhere')$$, tests.id('org_a')),
  'an outsider may not update the organization''s meta');
select is(tests.row_json('core.organizations_meta', tests.id('org_a')) ->> 'address', 'Via Roma 1',
  'refused meta updates left the address alone');
select is(tests.row_json('core.organizations_meta', tests.id('org_a')) ->> 'logo_file_id', null,
  'the refused logo was not stored');

select tests.reset_identity();
select * from finish();
rollback;
