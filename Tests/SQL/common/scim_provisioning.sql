-- SCIM provisioning, Users (issue 18): the bridge (app_admin) provisions an organization's
-- people with its token through the platform.scim_* functions: created pending or bound at
-- once, changed (PATCH and PUT, with versions), deactivated (the membership ends on the very
-- next statement), re-activated, deleted. A token acts for its own organization only, a revoked
-- one for nobody; roles never exceed manager; the owner is never touched; pending users hold
-- seats; every change is audited with the token as the actor, which no tenant can forge; no
-- tenant reaches the functions or the tables. Every refusal leaves the rows as they were.
begin;
select plan(92);
select tests.world();

-- Tokens (written directly, as the fixture of scim_tokens.sql does): a live one per
-- organization, a revoked one of org A.
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_b'), 'Okta B', repeat('b', 64)) returning tests.remember('tok_b', id);
insert into core.scim_tokens (organization_id, label, token_hash, revoked_at)
values (tests.id('org_a'), 'Old IdP', repeat('c', 64), now()) returning tests.remember('tok_revoked', id);
select tests.remember('dana', tests.create_user('dana@corp.example', 'Dana', 'Existing'));

-- A fingerprint of the SCIM rows and the memberships, to assert what a refusal left alone.
create function pg_temp.state() returns text
language sql security definer set search_path = '' as $$
  select md5(coalesce((select string_agg(s::text, ',' order by s.id) from core.scim_users s), '')
             || coalesce((select string_agg(m::text, ',' order by m.id) from core.memberships m), '')
             || coalesce((select string_agg(g::text, ',' order by g.unit_id, g.scim_user_id) from core.scim_group_members g), ''))
$$;
create temporary table before_state (v text) on commit drop;
grant all on before_state to public;
create function pg_temp.snap() returns void language sql as $$
  delete from before_state; insert into before_state select pg_temp.state();
$$;
create function pg_temp.unchanged() returns boolean language sql as $$
  select pg_temp.state() = (select v from before_state);
$$;

-- ---------------------------------------------------------------------------------------------
-- Create, read
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_service_role();
select tests.remember('alice', id) from platform.scim_create_user(tests.id('tok_a'),
  '{"user_name": "Alice@Corp.example", "email": " Alice@Corp.EXAMPLE ", "given_name": "Alice", "family_name": "Liddell",
    "display_name": "Alice L.", "external_id": "okta-00A"}');
select results_eq(
  format('select user_name, email, active, role, user_id, version, external_id from platform.scim_get_user(%L, %L)',
         tests.id('tok_a'), tests.id('alice')),
  $$values ('Alice@Corp.example', 'alice@corp.example', true, 'team', null::uuid, 1, 'okta-00A')$$,
  'a created SCIM user is pending (no user yet), active, team by default, version 1, its email lowercased');
select is((select count(*) from platform.scim_users(tests.id('tok_a'))), 1::bigint, 'the organization lists one SCIM user');
select is((select count(*) from platform.scim_users(tests.id('tok_b'))), 0::bigint, 'org B''s token lists none of org A''s');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('dana')), 'none', 'a pending SCIM user is nobody''s membership');

-- Uniqueness and input limits: refused, nothing written.
select tests.authenticate_service_role();
select pg_temp.snap();
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "ALICE@corp.example"}')$$, tests.id('tok_a')),
  'userName is unique per organization ignoring case', '{23505}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "a2", "external_id": "okta-00A"}')$$, tests.id('tok_a')),
  'externalId is unique per organization', '{23505}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "a3", "email": "ALICE@corp.example"}')$$, tests.id('tok_a')),
  'an email is unique per organization (lowercased)', '{23505}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"email": "x@corp.example"}')$$, tests.id('tok_a')),
  'userName is required', '{22023}');
select tests.refused(format('select * from platform.scim_create_user(%L, %L)', tests.id('tok_a'),
                            jsonb_build_object('user_name', repeat('u', 257))),
  'a userName over 256 characters is refused', '{22001}');
select tests.refused(format('select * from platform.scim_create_user(%L, %L)', tests.id('tok_a'),
                            jsonb_build_object('user_name', 'x', 'given_name', repeat('g', 256))),
  'a given name over 255 characters is refused', '{22001}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "x", "email": "not an email"}')$$, tests.id('tok_a')),
  'an invalid email is refused', '{22023}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "x", "nickname": "y"}')$$, tests.id('tok_a')),
  'an unknown attribute is refused', '{22023}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "x", "active": "yes"}')$$, tests.id('tok_a')),
  'active must be a boolean', '{22023}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "x", "role": "matrix_of_nothing"}')$$, tests.id('tok_a')),
  'an unknown role is refused', '{22023}');
select ok(pg_temp.unchanged(), 'no refused creation wrote a SCIM user or a membership');

-- Roles: manager allowed, super_admin refused, another organization's role unknown.
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "boss", "role": "super_admin"}')$$, tests.id('tok_a')),
  'the super_admin role is never provisioned', '{42501}');
select tests.reset_identity();
insert into core.roles (name, organization_id) values ('scim_role_b', tests.id('org_b'));
insert into core.roles (name, organization_id) values ('scim_role_a', tests.id('org_a'));
select tests.authenticate_service_role();
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "x", "role": "scim_role_b"}')$$, tests.id('tok_a')),
  'another organization''s own role is unknown here', '{22023}');
select ok(pg_temp.unchanged(), 'the refused roles wrote nothing');
select is((select role from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "mgr", "role": "manager"}')), 'manager',
  'a manager may be provisioned');
select is((select role from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "own", "role": "scim_role_a"}')), 'scim_role_a',
  'so may one of the organization''s own roles');

-- ---------------------------------------------------------------------------------------------
-- Another organization's ids, a revoked token
-- ---------------------------------------------------------------------------------------------
select tests.remember('bob', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "bob@b.example", "email": "bob@b.example"}');
select pg_temp.snap();
select tests.refused(format('select * from platform.scim_get_user(%L, %L)', tests.id('tok_a'), tests.id('bob')),
  'org A''s token cannot read org B''s user (not found)', '{P0002}');
select tests.refused(format('select * from platform.scim_get_user(%L, %L)', tests.id('tok_a'), gen_random_uuid()),
  'nor an unknown one (same answer)', '{P0002}');
select tests.refused(format($$select * from platform.scim_update_user(%L, %L, '{"active": false}')$$, tests.id('tok_a'), tests.id('bob')),
  'org A''s token cannot deactivate org B''s user', '{P0002}');
select tests.refused(format($$select * from platform.scim_replace_user(%L, %L, '{"user_name": "mine"}')$$, tests.id('tok_a'), tests.id('bob')),
  'nor replace it', '{P0002}');
select tests.refused(format('select platform.scim_delete_user(%L, %L)', tests.id('tok_a'), tests.id('bob')),
  'nor delete it', '{P0002}');
select tests.refused(format($$select * from platform.scim_update_user(%L, %L, '{"display_name": "x"}')$$, tests.id('tok_revoked'), tests.id('alice')),
  'a revoked token changes nothing', '{28000}');
select tests.refused(format('select count(*) from platform.scim_users(%L)', tests.id('tok_revoked')),
  'nor lists anything', '{28000}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "late"}')$$, tests.id('tok_revoked')),
  'nor creates anyone', '{28000}');
select tests.refused(format('select platform.scim_delete_user(%L, %L)', gen_random_uuid(), tests.id('alice')),
  'an unknown token is refused alike', '{28000}');
select ok(pg_temp.unchanged(), 'org B''s user and org A''s rows are untouched');
select is((select user_name from platform.scim_get_user(tests.id('tok_b'), tests.id('bob'))), 'bob@b.example',
  'org B''s own token still finds its user as it was');

-- ---------------------------------------------------------------------------------------------
-- Update, replace, versions
-- ---------------------------------------------------------------------------------------------
select results_eq(
  format($$select display_name, given_name, family_name, version from platform.scim_update_user(%L, %L, '{"display_name": "Alice Liddell", "family_name": null}', 1)$$,
         tests.id('tok_a'), tests.id('alice')),
  $$values ('Alice Liddell', 'Alice', null::text, 2)$$,
  'PATCH changes only the named attributes (null clears one) and bumps the version');
select pg_temp.snap();
select tests.refused(format($$select * from platform.scim_update_user(%L, %L, '{"display_name": "stale"}', 1)$$, tests.id('tok_a'), tests.id('alice')),
  'a change based on a stale version is refused (SC412)', '{SC412}');
select ok(pg_temp.unchanged(), 'and changes nothing');
select is((select version from platform.scim_update_user(tests.id('tok_a'), tests.id('alice'), '{"display_name": "Alice Liddell"}')), 2,
  'a change that changes nothing keeps the version');
select results_eq(
  format($$select user_name, external_id, display_name, given_name, email, role, version from platform.scim_replace_user(%L, %L, '{"user_name": "Alice@Corp.example", "email": "alice@corp.example", "role": "manager"}', 2)$$,
         tests.id('tok_a'), tests.id('alice')),
  $$values ('Alice@Corp.example', null::text, null::text, null::text, 'alice@corp.example', 'manager', 3)$$,
  'PUT replaces every attribute: those left out are cleared');

-- ---------------------------------------------------------------------------------------------
-- Binding by a verified email; deactivation, the gate, re-activation
-- ---------------------------------------------------------------------------------------------
-- The adapter-neutral path: the user signs in with a verified email and claims (binding at
-- once, by adapter, is in supabase/scim_binding.sql).
select tests.authenticate_service_role();
select tests.remember('dana_scim', id) from platform.scim_create_user(tests.id('tok_a'),
  '{"user_name": "dana", "email": "dana@corp.example", "role": "manager"}');
select tests.authenticate_verified(tests.id('dana'));
select results_eq('select organization_id, role from public.claim_provisioned_memberships()',
  format($$values (%L::uuid, 'manager')$$, tests.id('org_a')),
  'the verified user claims the provisioned membership: they join org A as manager');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('dana')), 'manager', 'their membership is live with the SCIM role');
select is((select user_id from core.scim_users where id = tests.id('dana_scim')), tests.id('dana'), 'the SCIM user is bound');
select tests.authenticate_verified(tests.id('dana'));
select ok(tests.id('org_a') = any (core.current_user_org_ids()), 'the gate lets them into org A');

select tests.authenticate_service_role();
select is((select active from platform.scim_update_user(tests.id('tok_a'), tests.id('dana_scim'), '{"active": false}')), false,
  'the identity provider deactivates them');
select tests.authenticate_verified(tests.id('dana'));
select ok(not (tests.id('org_a') = any (core.current_user_org_ids())), 'on the very next statement the gate no longer lets them in');
select is((select count(*) from public.list_my_organizations() where id = tests.id('org_a')), 0::bigint,
  'and org A is gone from their organizations');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('dana')), 'deleted', 'the membership is soft-deleted');
select is((select deleted_by from core.memberships where user_id = tests.id('dana') and organization_id = tests.id('org_a')),
  tests.id('tok_a'), 'removed by the token');

select tests.authenticate_service_role();
select is((select active from platform.scim_update_user(tests.id('tok_a'), tests.id('dana_scim'), '{"active": true}')), true,
  'the identity provider re-activates them');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('dana')), 'manager', 're-activation restores the membership');
select tests.authenticate_service_role();
select is((select role from platform.scim_update_user(tests.id('tok_a'), tests.id('dana_scim'), '{"role": "team"}')), 'team',
  'a role change ...');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('dana')), 'team', '... reaches the membership');

-- ---------------------------------------------------------------------------------------------
-- The owner
-- ---------------------------------------------------------------------------------------------
-- A SCIM user bound to someone who then becomes the owner is frozen for SCIM.
select tests.authenticate_as(tests.id('owner_a'));
select public.transfer_super_admin(tests.id('org_a'), tests.id('dana'));
select tests.authenticate_service_role();
select pg_temp.snap();
select tests.refused(format($$select * from platform.scim_update_user(%L, %L, '{"active": false}')$$, tests.id('tok_a'), tests.id('dana_scim')),
  'the owner is never deactivated by SCIM', '{42501}');
select tests.refused(format($$select * from platform.scim_update_user(%L, %L, '{"display_name": "Boss"}')$$, tests.id('tok_a'), tests.id('dana_scim')),
  'nor changed', '{42501}');
select tests.refused(format('select platform.scim_delete_user(%L, %L)', tests.id('tok_a'), tests.id('dana_scim')),
  'nor removed', '{42501}');
select ok(pg_temp.unchanged(), 'the owner''s membership and SCIM user are untouched');
select tests.reset_identity();
select is(tests.super_admins(tests.id('org_a')), array[tests.id('dana')], 'dana is still the owner');
select tests.authenticate_as(tests.id('dana'));
select public.transfer_super_admin(tests.id('org_a'), tests.id('owner_a'));

-- An owner's verified address is never bound: the claim leaves it pending.
select tests.authenticate_service_role();
select tests.remember('owner_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "owner", "email": "owner.a@smta.test"}');
select tests.authenticate_verified(tests.id('owner_a'));
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'the owner claims nothing');
select tests.reset_identity();
select is((select user_id from core.scim_users where id = tests.id('owner_scim')), null, 'the SCIM user stays unbound');
select ok((select is_super_admin and role_id = tests.role_id('super_admin') from core.memberships
           where user_id = tests.id('owner_a') and organization_id = tests.id('org_a')), 'the owner''s membership is untouched');
select tests.authenticate_service_role();
select lives_ok(format('select platform.scim_delete_user(%L, %L)', tests.id('tok_a'), tests.id('owner_scim')),
  'the unbound record is deleted like any pending one');

-- ---------------------------------------------------------------------------------------------
-- Seats: pending users hold them
-- ---------------------------------------------------------------------------------------------
-- Org A: owner, manager, team, member, loner, dana (6 members) and pending alice, mgr, own (3):
-- a limit of 10 leaves one seat.
select tests.reset_identity();
insert into platform.platform_subscription_overrides (organization_id, plan_override, features, reason)
values (tests.id('org_a'), '', '{"max_members": 10}', 'scim seats test');
select tests.authenticate_service_role();
select lives_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "tenth", "email": "tenth@corp.example"}')$$, tests.id('tok_a')),
  'a pending user takes the last seat');
select tests.remember('tenth', id) from platform.scim_users(tests.id('tok_a')) where user_name = 'tenth';
select pg_temp.snap();
select throws_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "eleventh"}')$$, tests.id('tok_a')),
  'P0001', 'The organization has reached its seat limit of 10 members',
  'an eleventh, even pending, is refused as the seat trigger refuses a member');
select lives_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "inactive", "active": false}')$$, tests.id('tok_a')),
  'an inactive user holds no seat');
select tests.remember('inactive', id) from platform.scim_users(tests.id('tok_a')) where user_name = 'inactive';
select throws_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": true}')$$, tests.id('tok_a'), tests.id('inactive')),
  'P0001', 'The organization has reached its seat limit of 10 members', 'activating it must fit the limit');
select tests.reset_identity();
select throws_ok(format('select tests.add_member(%L, %L)', tests.id('org_a'), tests.id('stranger')),
  'P0001', 'The organization has reached its seat limit of 10 members', 'a member added otherwise counts the pending users too');
select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format('select * from public.create_invitation(%L, %L, %L)', 'guest@corp.example', tests.id('org_a'), tests.role_id('team')),
  'P0001', 'The organization has reached its seat limit of 10 members', 'and so does an invitation');
select tests.reset_identity();
select is((select active from core.scim_users where id = tests.id('inactive')), false, 'the refused activation left it inactive');
-- Binding converts the reservation: the pending tenth binds in a full organization.
select tests.remember('tenth_user', tests.create_user('tenth@corp.example'));
select tests.authenticate_verified(tests.id('tenth_user'));
select is((select count(*) from public.claim_provisioned_memberships()), 1::bigint,
  'a pending user binds in a full organization: its reserved seat becomes the membership');
select tests.reset_identity();
select is(core.seats_taken(tests.id('org_a')), 10::bigint, 'ten seats in use, not eleven');
-- Deactivating frees a seat; re-activation must fit again.
select tests.authenticate_service_role();
select lives_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": false}')$$, tests.id('tok_a'), tests.id('dana_scim')),
  'deactivating a member frees a seat');
select lives_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": true}')$$, tests.id('tok_a'), tests.id('inactive')),
  'which another (pending) user takes');
select throws_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": true}')$$, tests.id('tok_a'), tests.id('dana_scim')),
  'P0001', 'The organization has reached its seat limit of 10 members', 're-activation must fit the limit again');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('dana')), 'deleted', 'the refused re-activation left the membership ended');

-- ---------------------------------------------------------------------------------------------
-- Delete
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_service_role();
select lives_ok(format('select platform.scim_delete_user(%L, %L)', tests.id('tok_a'), tests.id('tenth')),
  'the identity provider deletes a bound user');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('tenth_user')), 'deleted', 'their membership ended (soft delete)');
select is(tests.count_rows('core.scim_users', jsonb_build_object('id', tests.id('tenth'))), 0::bigint, 'the SCIM user is gone');
select tests.authenticate_service_role();
select tests.refused(format('select * from platform.scim_get_user(%L, %L)', tests.id('tok_a'), tests.id('tenth')),
  'and is not found any more', '{P0002}');

-- ---------------------------------------------------------------------------------------------
-- Audit: the token is the actor
-- ---------------------------------------------------------------------------------------------
select tests.reset_identity();
select ok((select bool_and(a.actor_id = tests.id('tok_a')
                  and a.metadata -> 'actor' = jsonb_build_object('kind', 'scim_token', 'token_id', tests.id('tok_a'), 'label', 'Okta A'))
           from core.audit_logs a
           where a.target_table = 'core.scim_users' and a.organization_id = tests.id('org_a')
             and not (a.action = 'update' and a.metadata -> 'changed' ? 'user_id')),
  'every change of org A''s SCIM users is audited with the token as the actor');
select ok((select bool_and(a.actor_id = tests.id('dana') and not a.metadata ? 'actor') from core.audit_logs a
           where a.target_id = tests.id('dana_scim') and a.metadata -> 'changed' ? 'user_id'),
  'binding, the user''s own act (their claim), is audited as theirs');
select is((select count(*) from core.audit_logs a where a.target_id = tests.id('alice') and a.action = 'update'), 2::bigint,
  'alice''s two real changes are in the log (the no-op one is not)');
select ok(exists (select 1 from core.audit_logs a
                  where a.target_table = 'core.memberships' and a.action = 'soft_delete' and a.actor_id = tests.id('tok_a')
                    and a.metadata -> 'actor' ->> 'label' = 'Okta A'),
  'the memberships SCIM ended are audited with the token too');
select ok(exists (select 1 from core.audit_logs a
                  where a.target_table = 'core.memberships' and a.action = 'insert' and a.actor_id = tests.id('dana')
                    and not a.metadata ? 'actor'),
  'a membership the user claimed is theirs, not the token''s');
select is((select count(*) from core.scim_request_actors), 0::bigint, 'no SCIM call left its actor row behind');

-- A tenant sets every setting it can and writes: its audit rows claim no token.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('smta.scim_token', tests.id('tok_a')::text, true);
select public.update_unit(tests.id('unit_a1'), 'Renamed by the owner');
select tests.reset_identity();
select ok((select a.actor_id = tests.id('owner_a') and not a.metadata ? 'actor'
           from core.audit_logs a where a.target_id = tests.id('unit_a1') and a.action = 'update'
           order by a.created_at desc limit 1),
  'a tenant who sets smta.scim_token still writes audit rows as themselves');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format($$insert into core.scim_request_actors values (pg_current_xact_id(), %L, %L, 'forged')$$,
                            tests.id('tok_a'), tests.id('org_a')),
  'a tenant cannot record a token as its actor', '{42501}');
select tests.authenticate_service_role();
select tests.refused(format($$insert into core.scim_request_actors values (pg_current_xact_id(), %L, %L, 'forged')$$,
                            tests.id('tok_a'), tests.id('org_a')),
  'nor can the service role', '{42501}');

-- ---------------------------------------------------------------------------------------------
-- Tenants reach neither the functions nor the tables
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select count(*) from platform.scim_users(%L)', tests.id('tok_a')),
  'the owner cannot call the bridge''s SCIM functions', '{42501}');
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "self-made"}')$$, tests.id('tok_a')),
  'nor provision anyone through them', '{42501}');
select tests.refused(format('select count(*) from core.scim_users where organization_id = %L', tests.id('org_a')),
  'nor read the SCIM users', '{42501}');
select tests.refused(format($$insert into core.scim_users (organization_id, user_name, role_id) values (%L, 'direct', %L)$$,
                            tests.id('org_a'), tests.role_id('team')),
  'nor insert one', '{42501}');
select tests.refused(format('update core.scim_users set active = false where id = %L', tests.id('alice')),
  'nor update one', '{42501}');
select tests.refused(format('delete from core.scim_users where id = %L', tests.id('alice')),
  'nor delete one', '{42501}');
select tests.authenticate_anon();
select tests.refused(format('select count(*) from platform.scim_users(%L)', tests.id('tok_a')),
  'nor can anon', '{42501}');
select tests.reset_identity();
select is((select active from core.scim_users where id = tests.id('alice')), true, 'alice is still active after the refusals');

select * from finish();
rollback;
