-- Files: create_file, get_file, list_files, update_file_metadata, delete_file, restore_file —
-- members manage their organization's file records; outsiders see and change nothing;
-- deletion is a soft delete that restore_file undoes.
begin;
select plan(19);
select tests.world();

select tests.authenticate_as(tests.id('team_a'));
select results_eq(
  format($$select organization_id, file_url, file_type
           from public.create_file(%L, 'https://cdn.example.test/logo.png', 'image/png', 2048, '{"width": 64}')$$, tests.id('org_a')),
  format($$values (%L::uuid, 'https://cdn.example.test/logo.png', 'image/png')$$, tests.id('org_a')),
  'a member records a file for the organization');
select tests.reset_identity();
select tests.remember('logo', (select (r ->> 'id')::uuid from tests.rows('core.organization_files', '{"file_type": "image/png"}') r));
select is(tests.row_json('core.organization_files', tests.id('logo')) -> 'file_specs', '{"width": 64}'::jsonb, 'its specs are stored');
select is(tests.row_json('core.organization_files', tests.id('logo')) ->> 'file_size', '2048', 'its size is stored');

select tests.authenticate_as(tests.id('team_a'));
select results_eq(format('select id, file_url from public.get_file(%L)', tests.id('logo')),
  format($$values (%L::uuid, 'https://cdn.example.test/logo.png')$$, tests.id('logo')),
  'get_file returns the file to a member');
select bag_eq(format('select id from public.list_files(%L)', tests.id('org_a')),
  format('values (%L::uuid), (%L::uuid)', tests.id('file_a'), tests.id('logo')),
  'list_files lists the organization''s files');
select results_eq(format($$select id, file_type from public.update_file_metadata(%L, '{"width": 128}', 4096)$$, tests.id('logo')),
  format($$values (%L::uuid, 'image/png')$$, tests.id('logo')),
  'a member updates the file''s metadata');
select is(tests.row_json('core.organization_files', tests.id('logo')) -> 'file_specs', '{"width": 128}'::jsonb, 'the new specs are stored');

select tests.authenticate_as(tests.id('owner_b'));
select tests.sees_nothing(format('select count(*) from public.get_file(%L)', tests.id('logo')),
  'an outsider gets nothing from get_file');
select tests.sees_nothing(format('select count(*) from public.list_files(%L)', tests.id('org_a')),
  'an outsider lists no files of the organization');
select tests.refused(format($$select count(*) from public.update_file_metadata(%L, '{"hijacked": true}')$$, tests.id('logo')),
  'an outsider may not update the file''s metadata');
select tests.refused(format('select public.delete_file(%L)', tests.id('logo')),
  'an outsider may not delete the file');
select tests.refused(format($$select count(*) from public.create_file(%L, 'https://evil.example.test/x', 'text/plain')$$, tests.id('org_a')),
  'an outsider may not record files for the organization');
select is(tests.count_rows('core.organization_files', jsonb_build_object('organization_id', tests.id('org_a'))), 2::bigint,
  'refused calls created no file');
select is(tests.row_json('core.organization_files', tests.id('logo')) -> 'file_specs', '{"width": 128}'::jsonb,
  'refused calls left the file alone');

select tests.authenticate_as(tests.id('team_a'));
select lives_ok(format('select public.delete_file(%L)', tests.id('logo')), 'a member deletes the file');
select is(tests.row_json('core.organization_files', tests.id('logo')) ->> 'is_deleted', 'true', 'the file row is kept and marked deleted');
select tests.sees_nothing(format('select count(*) from public.get_file(%L)', tests.id('logo')),
  'the deleted file is gone from get_file');
select lives_ok(format('select count(*) from public.restore_file(%L)', tests.id('logo')), 'a member restores the file');
select tests.sees_something(format('select count(*) from public.get_file(%L)', tests.id('logo')),
  'the restored file is visible again');

select tests.reset_identity();
select * from finish();
rollback;
