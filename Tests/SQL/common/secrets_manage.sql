-- Secrets: create_secret, list_secrets, read_secret, delete_secret and key rotation. An
-- organization's secrets are managed and read by its super_admin only (members list names,
-- never values); a user's secrets by that user only; values are never stored in clear and
-- never appear in an error; without the key nothing is stored.
begin;
select plan(25);
select tests.world();
select set_config('app.secrets_key', 'old-test-key-0123456789abcdef0123', true);

select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('org_secret', public.create_secret('organization', tests.id('org_a'), 'SMTP password', 'clear-org-value-7Q2'));
select isnt(tests.id('org_secret'), null, 'the super_admin stores an organization secret');
select is(public.read_secret(tests.id('org_secret')), 'clear-org-value-7Q2', 'the super_admin reads it back');

select tests.reset_identity();
select is(tests.row_json('platform.tenant_secrets', tests.id('org_secret')) ->> 'scope', 'organization', 'the reference row records its scope');
select is(tests.row_json('platform.tenant_secrets', tests.id('org_secret')) ->> 'organization_id', tests.id('org_a')::text, 'and its organization');
select is_empty($$select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                  where n.nspname in ('core', 'platform', 'public', 'app', 'utils') and c.relkind = 'r'
                    and tests.count_rows(c.oid::regclass) > 0
                    and exists (select 1 from tests.rows(c.oid::regclass) r where r::text like '%clear-org-value-7Q2%')$$,
  'the value is stored in clear in no table');

select tests.authenticate_as(tests.id('team_a'));
select results_eq(
  format($$select id, scope, secret_name from public.list_secrets('organization', %L)$$, tests.id('org_a')),
  format($$values (%L::uuid, 'organization', 'SMTP password')$$, tests.id('org_secret')),
  'a member lists the organization''s secret names');
select tests.refused(format('select public.read_secret(%L)', tests.id('org_secret')),
  'a team member may not read the organization''s secret', '{42501}');
select tests.refused(format($$select public.create_secret('organization', %L, 'x', 'y')$$, tests.id('org_a')),
  'a team member may not store organization secrets', '{42501}');
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select public.read_secret(%L)', tests.id('org_secret')),
  'a manager may not read the organization''s secret', '{42501}');
select tests.refused(format('select public.delete_secret(%L)', tests.id('org_secret')),
  'a manager may not delete the organization''s secret', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.read_secret(%L)', tests.id('org_secret')),
  'another organization''s super_admin may not read it');
select tests.sees_nothing(format($$select count(*) from public.list_secrets('organization', %L)$$, tests.id('org_a')),
  'an outsider lists none of the organization''s secrets');
select is_empty(format('select 1 from public.list_secrets() where id = %L', tests.id('org_secret')),
  'an outsider''s unfiltered list does not include it');

-- User secrets belong to their user alone.
select tests.authenticate_as(tests.id('team_a'));
select tests.remember('user_secret', public.create_secret('user', tests.id('team_a'), 'API key', 'clear-user-value-9Z'));
select is(public.read_secret(tests.id('user_secret')), 'clear-user-value-9Z', 'a user stores and reads their own secret');
select tests.refused(format($$select public.create_secret('user', %L, 'x', 'y')$$, tests.id('member_a')),
  'a user may not store a secret for another user', '{42501}');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select public.read_secret(%L)', tests.id('user_secret')),
  'not even the organization''s super_admin reads a user''s secret');
select tests.refused(format($$select public.create_secret('team', %L, 'x', 'y')$$, tests.id('org_a')),
  'an unknown scope is refused', '{22023}');

-- Without the key, or with the wrong one, nothing is stored or revealed, and errors never
-- carry the value.
select set_config('app.secrets_key', '', true);
select ok((select r.state is not null and coalesce(r.message, '') not like '%never-stored-4B%'
             from tests.try_call(format($$select public.create_secret('organization', %L, 'k', 'never-stored-4B')$$, tests.id('org_a'))) r),
  'storing a secret without the key fails, and the error does not carry the value');
select set_config('app.secrets_key', 'a-wrong-key-000000000000000000000', true);
select ok((select r.state is not null and coalesce(r.message, '') not like '%clear-org-value-7Q2%'
             from tests.try_call(format('select public.read_secret(%L)', tests.id('org_secret'))) r),
  'reading with the wrong key fails, and the error does not carry the value');

-- Rotation re-encrypts every secret (service role only).
select set_config('app.secrets_key', 'old-test-key-0123456789abcdef0123', true);
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused($$select platform.rotate_secrets_key('old-test-key-0123456789abcdef0123', 'new-test-key-0123456789abcdef0123')$$,
  'a tenant may not rotate the secrets key', '{42501}');
select tests.authenticate_service_role();
select cmp_ok(platform.rotate_secrets_key('old-test-key-0123456789abcdef0123', 'new-test-key-0123456789abcdef0123'), '>=', 2,
  'the service role rotates the key and every secret is re-encrypted');
select set_config('app.secrets_key', 'new-test-key-0123456789abcdef0123', true);
select tests.authenticate_as(tests.id('owner_a'));
select is(public.read_secret(tests.id('org_secret')), 'clear-org-value-7Q2', 'after rotation the secret reads back with the new key');

select lives_ok(format('select public.delete_secret(%L)', tests.id('org_secret')), 'the super_admin deletes the secret');
select is_empty(format('select 1 from public.list_secrets() where id = %L', tests.id('org_secret')),
  'the deleted secret is no longer listed');
select tests.refused(format('select public.read_secret(%L)', tests.id('org_secret')),
  'the deleted secret can no longer be read', '{P0002,42501}');

select tests.reset_identity();
select * from finish();
rollback;
