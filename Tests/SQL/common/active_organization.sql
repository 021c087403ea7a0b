-- The active organization: a caller who belongs to two organizations and names one for the
-- request (core.set_caller's p_organization_id, as the bridge passes X-SMTA-Organization, or
-- PostgREST's request header) sees and writes that organization only — through the helpers,
-- the API, direct reads and app tables under enable_tenancy — and naming one they do not
-- belong to is refused (42501), as is naming one without being a signed-in user. Without an
-- active organization nothing is narrowed.
begin;
select plan(25);
select tests.world();
select tests.remember('org_c', tests.create_org(tests.id('owner_b'), 'Org C'));
select tests.add_member(tests.id('org_c'), tests.id('team_a'), 'manager');

create table app.active_notes (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references core.organizations (id),
  body text not null
);
select core.enable_tenancy('app.active_notes');
insert into app.active_notes (organization_id, body) values (tests.id('org_a'), 'of A'), (tests.id('org_c'), 'of C');

-- Acts as team_a through core.set_caller, as the bridge does, with an active organization.
create function pg_temp.as_team_a(p_organization uuid) returns void
language sql as $$
  select core.set_caller('authenticated', tests.id('team_a'),
                         json_build_object('sub', tests.id('team_a'), 'role', 'authenticated')::text,
                         null, null, null, null, false, p_organization)
$$;

-- Without an active organization: both.
select tests.reset_identity();
select pg_temp.as_team_a(null);
select is((select count(*) from app.active_notes), 2::bigint, 'without an active organization the caller sees both organizations');
select is(core.current_organization_id(), null, 'and core.current_organization_id() is null');

-- Narrowed to org A.
select tests.reset_identity();
select pg_temp.as_team_a(tests.id('org_a'));
select is(core.current_organization_id(), tests.id('org_a'), 'core.current_organization_id() reads the active organization');
select is(core.current_user_org_ids(), array[tests.id('org_a')], 'the caller''s organizations are that one only');
select is((select array_agg(body) from app.active_notes), array['of A'], 'an app table shows that organization''s rows only');
select is((select array_agg(id) from public.list_my_organizations()), array[tests.id('org_a')], 'list_my_organizations lists it alone');
select is((select count(*) from core.organizations where id = tests.id('org_c')), 0::bigint, 'the other organization is not read directly');
select is((select count(*) from public.get_organization(tests.id('org_c'))), 0::bigint, 'nor through the API');
select is((select count(*) from public.get_user_permissions(tests.id('org_c'))), 0::bigint, 'no permissions there');
select ok(not core.is_org_member(tests.id('org_c')), 'core.is_org_member says no for the other one');
select is(core.current_user_managed_org_ids(), '{}'::uuid[], 'the organization the caller manages is out of reach too');
select tests.refused(format('insert into app.active_notes (organization_id, body) values (%L, ''sneaky'')', tests.id('org_c')),
  'no row is written into the other organization', '{42501}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_c'), tests.role_id('team')),
  'no API write reaches it either', '{42501}');
select tests.reset_identity();
select is((select count(*) from app.active_notes), 2::bigint, 'the app table is as it was');

-- Narrowed to org C, where team_a is a manager.
select pg_temp.as_team_a(tests.id('org_c'));
select is(core.current_user_managed_org_ids(), array[tests.id('org_c')], 'named, the organization they manage is theirs again');
select is((select array_agg(body) from app.active_notes), array['of C'], 'and only its rows');

-- Refused: an organization the caller is not in, a removed or expired membership, no user.
select tests.reset_identity();
select throws_ok(format('select pg_temp.as_team_a(%L)', tests.id('org_b')), '42501', null,
  'naming an organization the caller does not belong to is refused');
select throws_ok(format('select pg_temp.as_team_a(%L)', gen_random_uuid()), '42501', null,
  'naming an unknown organization is refused the same way');
update core.memberships set expires_at = now() - interval '1 second' where user_id = tests.id('team_a') and organization_id = tests.id('org_c');
select throws_ok(format('select pg_temp.as_team_a(%L)', tests.id('org_c')), '42501', null,
  'naming an organization whose membership expired is refused');
select throws_ok(format($$select core.set_caller('anon', null, '{"role":"anon"}', null, null, null, null, false, %L)$$, tests.id('org_a')),
  '42501', null, 'a request without a user has no active organization');
select throws_ok(format($$select core.set_caller('service_role', null, '{"role":"service_role"}', null, null, null, null, false, %L)$$, tests.id('org_a')),
  '42501', null, 'nor has the service role');
select is(current_user::text, session_user::text, 'a refused caller leaves the role as it was');

-- Under PostgREST: the request header, as PostgREST exposes it.
select tests.authenticate_as(tests.id('team_a'));
select set_config('request.headers', json_build_object('x-smta-organization', tests.id('org_a'))::text, true);
select is((select array_agg(body) from app.active_notes), array['of A'], 'PostgREST''s X-SMTA-Organization header narrows the same way');
select set_config('request.headers', '{"x-smta-organization": "not-a-uuid"}', true);
select throws_ok('select count(*) from app.active_notes', '22P02', null, 'a malformed header fails loudly instead of being ignored');
select set_config('request.headers', '{"accept": "application/json"}', true);
select is((select count(*) from app.active_notes), 1::bigint, 'other headers narrow nothing (org C''s membership has expired)');

select * from finish();
rollback;
