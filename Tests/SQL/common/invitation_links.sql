-- Invitation links: create_invitation_link, accept_invitation_link, revoke_invitation_link and
-- list_invitation_links, from the allowed side and from every refused one. The role ceiling,
-- units, uses, expiry, revocation, the creator's standing, the seat limit and email domains;
-- the token is handed out once and stored only as its hash; tenants have no direct path to the
-- table. Every refusal checks what did not change.
begin;
select plan(81);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('newcomer', tests.create_user('newcomer@smta.test'));
select tests.remember('second', tests.create_user('second@smta.test'));
select tests.remember('third', tests.create_user('third@smta.test'));
select tests.remember('corp', tests.create_user('ana@corp.example'));
select tests.remember('corp_sub', tests.create_user('bo@eu.corp.example'));
with r as (insert into core.roles (name, organization_id) values ('links_role_b', tests.id('org_b')) returning id)
select tests.remember('role_b', (select id from r));

create temporary table link_count_before (n bigint) on commit drop;
grant all on link_count_before to public;

-- ---------------------------------------------------------------------------------------------
-- Creating
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.tok', r.token, true), tests.remember('lnk', r.id), set_config('tests.exp', r.expires_at::text, true)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role')) r;
select tests.reset_identity();

select is(length(current_setting('tests.tok')), 64, 'the raw token is returned once (64 URL-safe characters)');
select is(tests.row_json('core.invitation_links', tests.id('lnk')) ->> 'token_hash',
  encode(sha256(convert_to(current_setting('tests.tok'), 'UTF8')), 'hex'), 'only the token''s SHA-256 is stored');
select is((select count(*) from core.invitation_links l where l.token_hash = current_setting('tests.tok')
           or l::text like '%' || current_setting('tests.tok') || '%'), 0::bigint, 'the raw token appears in no column');
select ok(current_setting('tests.exp')::timestamptz between now() + interval '7 days' - interval '1 minute'
                                                       and now() + interval '7 days' + interval '1 minute',
  'without an expiry a link lasts 7 days');
select is((select count(*) from core.audit_logs a where a.target_id = tests.id('lnk') and a.action = 'insert'
           and a.metadata -> 'new' ? 'token_hash'), 0::bigint, 'the creation is audited without the token hash');
select is((select count(*) from core.audit_logs a where a.target_id = tests.id('lnk') and a.action = 'insert'
           and a.organization_id = tests.id('org_a') and a.actor_id = tests.id('owner_a')), 1::bigint,
  'the creation is in the organization''s audit log, by its creator');

insert into link_count_before select count(*) from core.invitation_links;

select tests.authenticate_as(tests.id('loner_a'));
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.id('manager_role')),
  'a team member may not create a link for the manager role (above their own)', '{42501}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.role_id('super_admin')),
  'nobody creates a link for the super_admin role', '{42501}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L, p_unit_id => %L)', tests.id('org_a'), tests.id('team_role'), tests.id('unit_a1')),
  'a member of no unit may not create a link into a unit', '{42501}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L, p_max_uses => 0)', tests.id('org_a'), tests.id('team_role')),
  'a link needs at least one use', '{22023}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L, p_expires_at => now() - interval ''1 second'')', tests.id('org_a'), tests.id('team_role')),
  'an expiry in the past is refused', '{22023}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L, p_email_domain => ''not a domain'')', tests.id('org_a'), tests.id('team_role')),
  'an invalid email domain is refused', '{22023}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.id('role_b')),
  'another organization''s role is refused', '{22023}');
select tests.refused(format('select * from public.create_invitation_link(%L, %L, p_unit_id => %L)', tests.id('org_a'), tests.id('team_role'), tests.id('unit_b1')),
  'a unit of another organization is refused', '{22023}');
select tests.refused(format('select * from public.create_invitation_link(null, %L)', tests.id('team_role')),
  'a missing organization id is refused', '{22023}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.id('team_role')),
  'a member of another organization may not create a link into it', '{42501}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.id('team_role')),
  'an outsider may not create a link', '{42501}');
select tests.authenticate_anon();
select tests.refused(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.id('team_role')),
  'a request without a user may not create a link', '{42501}');
select tests.reset_identity();
select is((select count(*) from core.invitation_links), (select n from link_count_before),
  'no refused creation wrote a link');

-- Allowed: a team member at their own role, a manager into a unit they are not in.
select tests.authenticate_as(tests.id('loner_a'));
select tests.remember('lnk_loner', (select id from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'))));
select isnt(tests.id('lnk_loner'), null, 'a team member creates a link at their own role');
select tests.authenticate_as(tests.id('manager_a'));
select set_config('tests.tok_unit', r.token, true), tests.remember('lnk_unit', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'), p_unit_id => tests.id('unit_a2'), p_max_uses => 2) r;
select isnt(tests.id('lnk_unit'), null, 'a manager creates a link into a unit they are not in');
select set_config('tests.tok_mgr', r.token, true), tests.remember('lnk_mgr', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('manager_role'), p_expires_at => 'infinity') r;
select is(tests.row_json('core.invitation_links', tests.id('lnk_mgr')) ->> 'expires_at', 'infinity',
  'a link may be made never to expire');

-- ---------------------------------------------------------------------------------------------
-- Accepting
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('newcomer'));
select results_eq(
  format('select organization_id, unit_id, role_id, organization_name from public.accept_invitation_link(%L)', current_setting('tests.tok_unit')),
  format($$values (%L::uuid, %L::uuid, %L::uuid, 'Org A')$$, tests.id('org_a'), tests.id('unit_a2'), tests.id('team_role')),
  'a signed-in user accepts a link and learns the organization, unit and role');
select is(tests.membership_role(tests.id('org_a'), tests.id('newcomer')), 'team', 'they are a live member with the link''s role');
select is(tests.unit_membership_role(tests.id('unit_a2'), tests.id('newcomer')), 'team', 'and a member of the link''s unit');
select is((tests.row_json('core.invitation_links', tests.id('lnk_unit')) ->> 'use_count')::int, 1, 'the link counts one use');
select is((select consented_at is not null from core.memberships where user_id = tests.id('newcomer') and organization_id = tests.id('org_a')),
  true, 'joining by a link is the member''s own act (consented)');
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_unit')),
  'a member accepting again is refused', '{23505}');
select is((tests.row_json('core.invitation_links', tests.id('lnk_unit')) ->> 'use_count')::int, 1, 'the refused accept used nothing');

select tests.authenticate_as(tests.id('second'));
select lives_ok(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_unit')),
  'the second use of a two-use link is accepted');
select tests.authenticate_as(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_unit')),
  'a used-up link is refused', '{P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('third')), 'none', 'the used-up link added nobody');
select is((tests.row_json('core.invitation_links', tests.id('lnk_unit')) ->> 'use_count')::int, 2, 'the count stays at the maximum');

select tests.refused($$select count(*) from public.accept_invitation_link('not-a-real-token')$$,
  'an unknown token is refused', '{P0002}');
select tests.refused('select count(*) from public.accept_invitation_link(null)', 'a null token is refused', '{P0002}');
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', encode(sha256(convert_to(current_setting('tests.tok'), 'UTF8')), 'hex')),
  'the stored hash is not a token', '{P0002}');
select tests.authenticate_anon();
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok')),
  'a request without a user cannot accept', '{42501}');

-- Expired.
select tests.reset_identity();
update core.invitation_links set expires_at = now() - interval '1 minute' where id = tests.id('lnk');
select tests.authenticate_as(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok')),
  'an expired link is refused', '{P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('third')), 'none', 'the expired link added nobody');
select tests.reset_identity();
update core.invitation_links set expires_at = now() + interval '1 day' where id = tests.id('lnk');

-- The creator's standing: a manager's manager link stops when they are demoted, works again
-- when they are a manager again, and stops when they leave.
select tests.reset_identity();
update core.memberships set role_id = tests.id('team_role') where user_id = tests.id('manager_a') and organization_id = tests.id('org_a');
select tests.authenticate_as(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_mgr')),
  'a link whose creator may no longer give its role admits nobody', '{P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('third')), 'none', 'the demoted creator''s link added nobody');
select tests.authenticate_as(tests.id('owner_a'));
select is((select status from public.list_invitation_links(tests.id('org_a')) where id = tests.id('lnk_mgr')), 'inactive',
  'the list shows such a link as inactive');
select tests.reset_identity();
update core.memberships set role_id = tests.id('manager_role') where user_id = tests.id('manager_a') and organization_id = tests.id('org_a');
select tests.authenticate_as(tests.id('owner_a'));
select is((select status from public.list_invitation_links(tests.id('org_a')) where id = tests.id('lnk_mgr')), 'active',
  'it is active again once its creator is a manager again');
select public.remove_member_from_organization(tests.id('org_a'), tests.id('manager_a'));
select tests.authenticate_as(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_mgr')),
  'a link whose creator left the organization admits nobody', '{P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('third')), 'none', 'the departed creator''s link added nobody');

-- A deleted organization.
select tests.authenticate_as(tests.id('owner_b'));
select set_config('tests.tok_b', token, true) from public.create_invitation_link(tests.id('org_b'), tests.id('team_role'));
select public.delete_organization(tests.id('org_b'));
select tests.authenticate_as(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_b')),
  'a link of a deleted organization is refused', '{P0002}');
select is(tests.membership_state(tests.id('org_b'), tests.id('third')), 'none', 'and adds nobody');

-- ---------------------------------------------------------------------------------------------
-- Email domains: only a verified email at exactly that domain
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.tok_dom', r.token, true), tests.remember('lnk_dom', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'), p_email_domain => ' @Corp.Example ') r;
select is(tests.row_json('core.invitation_links', tests.id('lnk_dom')) ->> 'email_domain', 'corp.example',
  'the domain is stored trimmed, without @, lowercase');
select tests.authenticate_as(tests.id('corp'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_dom')),
  'an email at the domain that the platform has not verified is refused', '{42501}');
select is(tests.membership_state(tests.id('org_a'), tests.id('corp')), 'none', 'the unverified email joined nothing');
select tests.authenticate_verified(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_dom')),
  'a verified email at another domain is refused', '{42501}');
select tests.authenticate_verified(tests.id('corp_sub'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_dom')),
  'a verified email at a subdomain is refused (exactly the domain)', '{42501}');
select is((tests.row_json('core.invitation_links', tests.id('lnk_dom')) ->> 'use_count')::int, 0, 'the refused callers used nothing');
select tests.authenticate_verified(tests.id('corp'));
select lives_ok(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_dom')),
  'a verified email at the domain joins');
select is(tests.membership_role(tests.id('org_a'), tests.id('corp')), 'team', 'with the link''s role');

-- ---------------------------------------------------------------------------------------------
-- Revoking
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select public.revoke_invitation_link(%L)', tests.id('lnk')),
  'a team member may not revoke another member''s link', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.revoke_invitation_link(%L)', tests.id('lnk')),
  'another organization''s member cannot revoke it, nor learn it exists', '{P0002}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select public.revoke_invitation_link(%L)', tests.id('lnk')),
  'an outsider cannot revoke it', '{P0002}');
select tests.refused(format('select public.revoke_invitation_link(%L)', gen_random_uuid()),
  'an unknown link id is not found', '{P0002}');
select tests.reset_identity();
select is(tests.row_json('core.invitation_links', tests.id('lnk')) ->> 'revoked_at', null, 'the refused revocations changed nothing');

select tests.authenticate_as(tests.id('loner_a'));
select lives_ok(format('select public.revoke_invitation_link(%L)', tests.id('lnk_loner')), 'a link''s creator revokes it');
select tests.refused(format('select public.revoke_invitation_link(%L)', tests.id('lnk_loner')),
  'a revoked link cannot be revoked again', '{P0001}');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.revoke_invitation_link(%L)', tests.id('lnk')), 'the super_admin revokes a member''s link');
select tests.reset_identity();
select is(tests.row_json('core.invitation_links', tests.id('lnk')) ->> 'revoked_by', tests.id('owner_a')::text, 'revoked_by records who revoked it');
select tests.authenticate_as(tests.id('third'));
select tests.refused(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok')),
  'a revoked link is refused', '{P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('third')), 'none', 'the revoked link added nobody');

-- ---------------------------------------------------------------------------------------------
-- Listing
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('member_a'));
select is((select count(*) from public.list_invitation_links(tests.id('org_a'))), 5::bigint, 'a member lists the organization''s links');
select is((select array_agg(status order by status) from public.list_invitation_links(tests.id('org_a'))),
  array['active', 'inactive', 'revoked', 'revoked', 'used_up'], 'each with its status');
select is((select count(*) from information_schema.routines r
           join information_schema.parameters p on p.specific_name = r.specific_name
           where r.routine_schema = 'public' and r.routine_name = 'list_invitation_links'
             and p.parameter_mode = 'OUT' and p.parameter_name ~ 'token'), 0::bigint, 'the list has no token column');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select count(*) from public.list_invitation_links(%L)', tests.id('org_a')),
  'an outsider may not list them', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select count(*) from public.list_invitation_links(%L)', tests.id('org_a')),
  'another organization''s member may not list them', '{42501}');

-- ---------------------------------------------------------------------------------------------
-- The seat limit
-- ---------------------------------------------------------------------------------------------
select tests.reset_identity();
select set_config('tests.seats', (select count(*) from core.memberships where organization_id = tests.id('org_a') and not is_deleted)::text, true);
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', current_setting('tests.seats')::jsonb);
select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format('select * from public.create_invitation_link(%L, %L)', tests.id('org_a'), tests.id('team_role')),
  'P0001', 'The organization has reached its seat limit of ' || current_setting('tests.seats') || ' members',
  'no link is created for a full organization');
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', (current_setting('tests.seats')::int + 1)::text::jsonb);
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.tok_seat', r.token, true), tests.remember('lnk_seat', r.id)
  from public.create_invitation_link(tests.id('org_a'), tests.id('team_role'), p_max_uses => 5) r;
select tests.authenticate_as(tests.id('third'));
select lives_ok(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_seat')),
  'a link admits while a seat is free');
select tests.authenticate_as(tests.id('stranger'));
select throws_ok(format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.tok_seat')),
  'P0001', 'The organization has reached its seat limit of ' || (current_setting('tests.seats')::int + 1) || ' members',
  'a link admits nobody into a full organization');
select is(tests.membership_state(tests.id('org_a'), tests.id('stranger')), 'none', 'the stranger did not join');
select is((tests.row_json('core.invitation_links', tests.id('lnk_seat')) ->> 'use_count')::int, 1, 'the refused accept used nothing');

-- ---------------------------------------------------------------------------------------------
-- No direct path for tenants
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select count(*) from core.invitation_links where organization_id = %L', tests.id('org_a')),
  'even the super_admin cannot read the table directly', '{42501}');
select tests.refused(format('insert into core.invitation_links (organization_id, role_id, token_hash, created_by) values (%L, %L, repeat(''a'', 64), %L)',
                            tests.id('org_a'), tests.id('team_role'), tests.id('owner_a')),
  'nor insert a link', '{42501}');
select tests.refused(format('update core.invitation_links set use_count = 0, revoked_at = null where id = %L', tests.id('lnk_unit')),
  'nor reset a link''s uses or revocation', '{42501}');
select tests.refused(format('delete from core.invitation_links where id = %L', tests.id('lnk_unit')),
  'nor delete one', '{42501}');
select tests.reset_identity();
select is((tests.row_json('core.invitation_links', tests.id('lnk_unit')) ->> 'use_count')::int, 2, 'the link is as it was');

select * from finish();
rollback;
