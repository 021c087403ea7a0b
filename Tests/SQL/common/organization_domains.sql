-- Verified domains and joining by domain: the super_admin claims a domain, the platform verifies
-- it, and only a signed-in user whose email the platform verified at exactly that domain sees
-- the organization and joins with the domain's role; never before verification, never with an
-- unproven email, never back after being removed; one organization per verified domain; the
-- role ceiling and the seat limit hold. Every refusal checks what did not change.
begin;
select plan(58);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('ana', tests.create_user('ana@corp.example'));
select tests.remember('bo', tests.create_user('bo@corp.example'));
select tests.remember('cy', tests.create_user('cy@corp.example')); -- never verified
select tests.remember('eve', tests.create_user('eve@eu.corp.example'));
select tests.remember('max', tests.create_user('max@other.example'));
with r as (insert into core.roles (name, organization_id) values ('domains_role_b', tests.id('org_b')) returning id)
select tests.remember('role_b', (select id from r));

create temporary table domain_count (n bigint) on commit drop;
insert into domain_count select count(*) from core.organization_domains;
grant all on domain_count to public;

-- ---------------------------------------------------------------------------------------------
-- Claiming
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_a')),
  'a manager may not add a domain', '{42501}');
select tests.authenticate_as(tests.id('member_a'));
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_a')),
  'a team member may not', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_a')),
  'another organization''s owner may not', '{42501}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_a')),
  'an outsider may not', '{42501}');
select tests.authenticate_anon();
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_a')),
  'a request without a user may not', '{42501}');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select * from public.add_organization_domain(%L, ''not a domain'')', tests.id('org_a')),
  'an invalid domain is refused', '{22023}');
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'', %L)', tests.id('org_a'), tests.role_id('super_admin')),
  'a domain never gives the super_admin role', '{42501}');
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'', %L)', tests.id('org_a'),
                            tests.id('role_b')),
  'nor another organization''s role', '{P0002,22023}');
select tests.reset_identity();
select is((select count(*) from core.organization_domains), (select n from domain_count), 'no refused claim wrote a domain');

select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('dom', (select id from public.add_organization_domain(tests.id('org_a'), ' @Corp.Example ')));
select is((select domain || ' ' || record_name from public.list_organization_domains(tests.id('org_a')) where id = tests.id('dom')),
  'corp.example _smta-verification.corp.example', 'the domain is stored normalized, with the TXT record name to publish');
select is((select role_name from public.list_organization_domains(tests.id('org_a')) where id = tests.id('dom')), 'team',
  'without a role it gives team');
select is((select verified_at from public.list_organization_domains(tests.id('org_a')) where id = tests.id('dom')), null,
  'it starts unverified');
select ok((select length(verification_token) >= 43 from public.list_organization_domains(tests.id('org_a')) where id = tests.id('dom')),
  'with an unguessable token');
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_a')),
  'the same claim twice is a duplicate', '{23505}');
select tests.authenticate_as(tests.id('manager_a'));
select is((select count(*) from public.list_organization_domains(tests.id('org_a'))), 1::bigint, 'a manager lists the domains');
select tests.authenticate_as(tests.id('member_a'));
select tests.refused(format('select count(*) from public.list_organization_domains(%L)', tests.id('org_a')),
  'a team member may not list them', '{42501}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select count(*) from public.list_organization_domains(%L)', tests.id('org_a')),
  'nor an outsider', '{42501}');

-- Another organization may claim the same domain while nobody has verified it.
select tests.authenticate_as(tests.id('owner_b'));
select tests.remember('dom_b', (select id from public.add_organization_domain(tests.id('org_b'), 'corp.example')));
select isnt(tests.id('dom_b'), null, 'another organization may claim an unverified domain too');

-- ---------------------------------------------------------------------------------------------
-- Before verification nobody joins
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_verified(tests.id('ana'));
select is((select count(*) from public.list_joinable_organizations()), 0::bigint, 'an unverified domain is joinable by nobody');
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'joining by an unverified domain is refused', '{42501}');

-- ---------------------------------------------------------------------------------------------
-- Verification: the platform only, one organization per domain
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select platform.verify_organization_domain(%L)', tests.id('dom')),
  'the owner cannot verify their own domain', '{42501}');
select tests.refused('select count(*) from platform.list_pending_organization_domains()',
  'nor list what is pending', '{42501}');
select tests.authenticate_service_role();
select is((select count(*) from platform.list_pending_organization_domains() where domain = 'corp.example'), 2::bigint,
  'the platform sees both claims pending');
select is((select record_value from platform.list_pending_organization_domains() where id = tests.id('dom')),
  'smta-domain-verification=' || (select verification_token from core.organization_domains where id = tests.id('dom')),
  'with the TXT value to find');
select lives_ok(format('select platform.verify_organization_domain(%L)', tests.id('dom')), 'the platform verifies the domain');
select lives_ok(format('select platform.verify_organization_domain(%L)', tests.id('dom')), 'verifying again changes nothing');
select throws_ok(format('select platform.verify_organization_domain(%L)', tests.id('dom_b')), '23505', null,
  'a second organization cannot verify the same domain');
select throws_ok(format('select platform.verify_organization_domain(%L)', gen_random_uuid()), 'P0002', null,
  'an unknown domain is not found');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select * from public.add_organization_domain(%L, ''corp.example'')', tests.id('org_b')),
  'nor claim it again once verified elsewhere', '{23505}');
select tests.reset_identity();
select is((select verified_at from core.organization_domains where id = tests.id('dom_b')), null, 'the second claim stays unverified');

-- ---------------------------------------------------------------------------------------------
-- Joining
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('cy'));
select is((select count(*) from public.list_joinable_organizations()), 0::bigint, 'an email the platform did not verify sees nothing');
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'and cannot join', '{42501}');
select tests.authenticate_verified(tests.id('eve'));
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'a verified email at a subdomain cannot join (exactly the domain)', '{42501}');
select tests.authenticate_verified(tests.id('max'));
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'a verified email at another domain cannot join', '{42501}');
select tests.reset_identity();
select is((select count(*) from core.memberships where organization_id = tests.id('org_a')
           and user_id in (tests.id('cy'), tests.id('eve'), tests.id('max'))), 0::bigint, 'the refused joins added nobody');

select tests.authenticate_verified(tests.id('ana'));
select results_eq('select organization_id, organization_name, domain, role_name from public.list_joinable_organizations()',
  format($$values (%L::uuid, 'Org A', 'corp.example', 'team')$$, tests.id('org_a')),
  'a verified email at the domain sees the organization, not the one whose claim is unverified');
select results_eq(format('select organization_id, role_id, organization_name from public.join_organization_by_domain(%L)', tests.id('org_a')),
  format($$values (%L::uuid, %L::uuid, 'Org A')$$, tests.id('org_a'), tests.id('team_role')),
  'and joins it with the domain''s role');
select is(tests.membership_role(tests.id('org_a'), tests.id('ana')), 'team', 'as a live member');
select is((select consented_at is not null from core.memberships where user_id = tests.id('ana') and organization_id = tests.id('org_a')),
  true, 'by their own act (consented)');
select is((select count(*) from public.list_joinable_organizations()), 0::bigint, 'a member no longer sees it as joinable');
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'joining twice is a duplicate', '{23505}');

-- Removed by the organization: not back by domain. Left by their own act: may rejoin.
select tests.authenticate_as(tests.id('owner_a'));
select public.remove_member_from_organization(tests.id('org_a'), tests.id('ana'));
select tests.authenticate_verified(tests.id('ana'));
select is((select count(*) from public.list_joinable_organizations()), 0::bigint, 'a removed member does not see the organization again');
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'and cannot come back by domain', '{42501}');
select is(tests.membership_state(tests.id('org_a'), tests.id('ana')), 'deleted', 'their membership stays removed');
select tests.authenticate_verified(tests.id('bo'));
select lives_ok(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')), 'a colleague joins');
select tests.authenticate_as(tests.id('bo'));
select public.leave_organization(tests.id('org_a'));
select tests.authenticate_verified(tests.id('bo'));
select lives_ok(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'who left by their own act may rejoin');
select is(tests.membership_state(tests.id('org_a'), tests.id('bo')), 'live', 'and is a member again');

-- The seat limit holds.
select tests.reset_identity();
select set_config('tests.live', (select count(*) from core.memberships where organization_id = tests.id('org_a') and not is_deleted)::text, true);
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', current_setting('tests.live')::jsonb);
select tests.authenticate_as(tests.id('bo'));
select public.leave_organization(tests.id('org_a'));
select tests.authenticate_as(tests.id('owner_a'));
select tests.reset_identity();
select tests.add_member(tests.id('org_a'), tests.create_user('filler@smta.test'));
select tests.authenticate_verified(tests.id('bo'));
select throws_ok(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')), 'P0001',
  'The organization has reached its seat limit of ' || current_setting('tests.live') || ' members',
  'nobody joins a full organization by domain');
select is(tests.membership_state(tests.id('org_a'), tests.id('bo')), 'deleted', 'the colleague did not join');

-- ---------------------------------------------------------------------------------------------
-- Removing a domain; no direct path
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format('select public.remove_organization_domain(%L)', tests.id('dom')), 'a manager may not remove a domain', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.remove_organization_domain(%L)', tests.id('dom')),
  'another organization cannot find it', '{P0002}');
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select count(*) from core.organization_domains where id = %L', tests.id('dom')),
  'even the super_admin has no direct read', '{42501}');
select tests.refused(format('update core.organization_domains set verified_at = now() where id = %L', tests.id('dom_b')),
  'nor a direct write that would verify a domain', '{42501}');
select tests.refused(format('insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at) values (%L, ''free.example'', ''x'', %L, now())',
                            tests.id('org_a'), tests.id('team_role')),
  'nor a direct insert of a verified domain', '{42501}');
select tests.reset_identity();
select is((select count(*) from core.organization_domains where verified_at is not null), 1::bigint, 'only the platform''s verification stands');
select is((select count(*) from core.audit_logs a where a.target_table = 'core.organization_domains' and a.organization_id = tests.id('org_a')),
  2::bigint, 'the claim and its verification are in the organization''s audit log');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.remove_organization_domain(%L)', tests.id('dom')), 'the super_admin removes the domain');
select tests.authenticate_verified(tests.id('max'));
select tests.reset_identity();
select tests.set_user_email(tests.id('max'), 'max@corp.example');
select tests.authenticate_verified(tests.id('max'));
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'nobody joins by a removed domain', '{42501}');

select * from finish();
rollback;
