-- SCIM tokens: the super_admin creates, lists and revokes an organization's provisioning
-- tokens; a token is returned once, stored as its SHA-256, and authenticates (for the bridge,
-- platform.authenticate_scim_token) its own live organization only, until revoked. Everyone else
-- is refused, and nothing changes when they are.
begin;
select plan(30);
select tests.world();

create temporary table token_count (n bigint) on commit drop;
insert into token_count select count(*) from core.scim_tokens;
grant all on token_count to public;

-- Refused: everyone but the super_admin.
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'a manager may not create a SCIM token', '{42501}');
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'nor may a team member', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'nor another organization''s owner', '{42501}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'nor an outsider', '{42501}');
select tests.authenticate_anon();
select tests.refused(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'nor a request without a user', '{42501}');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select * from public.create_scim_token(%L, ''   '')', tests.id('org_a')),
  'a blank label is refused', '{22023}');
select tests.refused(format('select * from public.create_scim_token(%L, %L)', tests.id('org_a'), repeat('x', 101)),
  'a label over 100 characters is refused', '{22023}');
select tests.reset_identity();
select is((select count(*) from core.scim_tokens), (select n from token_count), 'no refused call wrote a token');

-- Created by the super_admin, returned once.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.tok', r.token, true), tests.remember('tok_id', r.id)
  from public.create_scim_token(tests.id('org_a'), ' Okta ') r;
select ok(current_setting('tests.tok') ~ '^smta_scim_[A-Za-z0-9_-]{64}$', 'the token is returned once, with its recognisable prefix');
select tests.refused(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'a second live token with the same label is a duplicate', '{23505}');
select is((select label from public.list_scim_tokens(tests.id('org_a'))), 'Okta', 'the super_admin lists it by its trimmed label');
select is((select count(*) from information_schema.parameters p
           where p.specific_schema = 'public' and p.specific_name like 'list_scim_tokens%' and p.parameter_name ~ 'token$'),
  0::bigint, 'the list has no token column');
select tests.reset_identity();
select is((select token_hash from core.scim_tokens where id = tests.id('tok_id')),
  encode(sha256(convert_to(current_setting('tests.tok'), 'UTF8')), 'hex'), 'only its SHA-256 is stored');
select is((select count(*) from core.audit_logs a where a.target_id = tests.id('tok_id') and a.action = 'insert'
           and not (a.metadata -> 'new' ? 'token_hash')), 1::bigint, 'its creation is audited without the hash');

select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select count(*) from public.list_scim_tokens(%L)', tests.id('org_a')),
  'a manager may not list the tokens', '{42501}');
select tests.refused(format('select public.revoke_scim_token(%L)', tests.id('tok_id')),
  'nor revoke one (not found for them)', '{P0002}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.revoke_scim_token(%L)', tests.id('tok_id')),
  'another organization''s owner cannot find it', '{P0002}');

-- Authenticating (the bridge, as app_admin).
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select count(*) from platform.authenticate_scim_token(%L)', current_setting('tests.tok')),
  'a signed-in user cannot authenticate tokens', '{42501}');
select tests.refused(format('select count(*) from core.scim_tokens where organization_id = %L', tests.id('org_a')),
  'nor read the table directly', '{42501}');
select tests.reset_identity();
select results_eq(format('select token_id, organization_id, label from platform.authenticate_scim_token(%L)', current_setting('tests.tok')),
  format($$values (%L::uuid, %L::uuid, 'Okta')$$, tests.id('tok_id'), tests.id('org_a')),
  'the token authenticates as its own organization');
select isnt((select last_used_at from core.scim_tokens where id = tests.id('tok_id')), null, 'and its use is recorded');
select is((select count(*) from platform.authenticate_scim_token(
             substr(current_setting('tests.tok'), 1, 73) || case when right(current_setting('tests.tok'), 1) = 'x' then 'y' else 'x' end)),
  0::bigint, 'one character changed authenticates nothing');
select is((select count(*) from platform.authenticate_scim_token((select token_hash from core.scim_tokens where id = tests.id('tok_id')))),
  0::bigint, 'the stored hash is not a token');
select is((select count(*) from platform.authenticate_scim_token(null)), 0::bigint, 'nor is null');

-- An organization's token never acts for another.
select tests.authenticate_as(tests.id('owner_b'));
select set_config('tests.tok_b', token, true) from public.create_scim_token(tests.id('org_b'), 'Okta');
select tests.reset_identity();
select is((select organization_id from platform.authenticate_scim_token(current_setting('tests.tok_b'))), tests.id('org_b'),
  'another organization''s token authenticates as that organization only');

-- Revoked, or its organization deleted: nothing.
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.revoke_scim_token(%L)', tests.id('tok_id')), 'the super_admin revokes the token');
select tests.refused(format('select public.revoke_scim_token(%L)', tests.id('tok_id')), 'revoking twice is refused', '{P0001}');
select tests.reset_identity();
select is((select count(*) from platform.authenticate_scim_token(current_setting('tests.tok'))), 0::bigint,
  'a revoked token authenticates nothing');
select tests.authenticate_as(tests.id('owner_b'));
select public.delete_organization(tests.id('org_b'));
select tests.reset_identity();
select is((select count(*) from platform.authenticate_scim_token(current_setting('tests.tok_b'))), 0::bigint,
  'a deleted organization''s token authenticates nothing');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select * from public.create_scim_token(%L, ''Okta'')', tests.id('org_a')),
  'a revoked token''s label may be used again');

select * from finish();
rollback;
