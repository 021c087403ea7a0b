-- Soft delete, restore, invitation state and tracking columns change only through the API
-- (issue 10, items 3, 5 and 10). A direct UPDATE of an RLS caller cannot soft-delete or restore
-- a row whatever the statement's shape (WHERE id, no WHERE, WHERE CURRENT OF), cannot revive
-- or extend an invitation, and never chooses who is recorded as the author of a change.
begin;
select plan(33);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));

-- Item 3: units soft-deleted or restored by a bare UPDATE.
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused('update core.units set is_deleted = true',
  'a manager cannot soft-delete units with an UPDATE without WHERE', '{42501}');
select tests.refused(format('update core.units set is_deleted = true where id = %L', tests.id('unit_a2')),
  'nor with WHERE id = …', '{42501}');
select tests.refused($q$do $$
    declare c cursor for select id from core.units;
    v uuid;
  begin
    open c; fetch c into v;
    update core.units set is_deleted = true where current of c;
  end $$$q$,
  'nor with WHERE CURRENT OF a cursor', '{42501}');
select is(tests.count_rows('core.units', jsonb_build_object('organization_id', tests.id('org_a'), 'is_deleted', true)), 0::bigint,
  'no unit of org A is deleted');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('update core.units set is_deleted = true where id = %L', tests.id('unit_a2')),
  'the super_admin neither: delete_unit is the path (it checks sub-units)', '{42501}');
select lives_ok(format('select public.delete_unit(%L)', tests.id('unit_a2')), 'setup: the owner deletes unit A2 through the API');
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused('update core.units set is_deleted = false',
  'a manager cannot restore a unit with an UPDATE', '{42501}');
select is((tests.row_json('core.units', tests.id('unit_a2')) ->> 'is_deleted')::boolean, true, 'unit A2 is still deleted');

-- The same holds for every other soft-deleted table.
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('update core.organizations set is_deleted = true where id = %L', tests.id('org_a')),
  'the super_admin cannot soft-delete the organization by an UPDATE', '{42501}');
select tests.refused(format('update core.memberships set is_deleted = true where user_id = %L', tests.id('member_a')),
  'the super_admin cannot remove a member by an UPDATE', '{42501}');
select tests.refused(format('update core.unit_memberships set is_deleted = true where user_id = %L', tests.id('member_a')),
  'nor a unit member', '{42501}');
select is(tests.membership_state(tests.id('org_a'), tests.id('member_a')), 'live', 'member_a is still a member');
select is(tests.unit_membership_state(tests.id('unit_a1'), tests.id('member_a')), 'live', 'member_a is still in unit A1');
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('update core.organization_files set is_deleted = true where id = %L', tests.id('file_a')),
  'a member cannot soft-delete a file by an UPDATE (delete_file is the path)', '{42501}');
select tests.refused(format('update core.organization_files set file_url = %L where id = %L', 'https://evil.example/x', tests.id('file_a')),
  'nor rewrite what update_file_metadata does not change', '{42501}');
select is((tests.row_json('core.organization_files', tests.id('file_a')) ->> 'is_deleted')::boolean, false, 'the file is still live');

-- Item 5: an accepted invitation revived by an UPDATE.
select tests.remember('invitee', tests.create_user('revive.me@smta.test', 'Revive', 'Me'));
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', (select token from public.create_invitation('revive.me@smta.test', tests.id('org_a'), tests.id('manager_role'))), true);
select tests.remember('invitation', (select id from core.invitations where email = 'revive.me@smta.test'));
select tests.authenticate_as(tests.id('invitee'), 'revive.me@smta.test');
select lives_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.token')), 'setup: the invitee accepts');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('invitee')),
  'setup: the owner removes them');
select tests.authenticate_as(tests.id('manager_a'));
select throws_ok(format($$update core.invitations set status = 'pending', expires_at = now() + interval '30 days' where id = %L$$, tests.id('invitation')),
  '42501', null, 'a manager cannot revive an accepted invitation');
select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format($$update core.invitations set status = 'pending' where id = %L$$, tests.id('invitation')),
  '42501', null, 'nor can the super_admin');
select is(tests.row_json('core.invitations', tests.id('invitation')) ->> 'status', 'accepted', 'the invitation is still accepted');
select tests.authenticate_as(tests.id('invitee'), 'revive.me@smta.test');
select throws_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.token')),
  'P0001', 'This invitation has already been accepted', 'the removed member cannot rejoin with the old token');
select is(tests.membership_state(tests.id('org_a'), tests.id('invitee')), 'deleted', 'they are still removed');

-- A pending invitation can only be ended early by a direct write.
select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('pending', (select id from public.create_invitation('pending.one@smta.test', tests.id('org_a'), tests.id('team_role'))));
select tests.authenticate_as(tests.id('manager_a'));
select throws_ok(format($$update core.invitations set expires_at = expires_at + interval '1 year' where id = %L$$, tests.id('pending')),
  '42501', null, 'a pending invitation cannot be extended directly (resend_invitation renews it)');
select throws_ok(format($$update core.invitations set token = 'x' where id = %L$$, tests.id('pending')),
  '42501', null, 'nor its token hash rewritten');
select throws_ok(format($$update core.invitations set role_id = %L where id = %L$$, tests.id('manager_role'), tests.id('pending')),
  '42501', null, 'nor its role changed');
select lives_ok(format($$update core.invitations set status = 'cancelled' where id = %L$$, tests.id('pending')),
  'a manager may cancel a pending invitation directly, as cancel_invitation does');
select is(tests.row_json('core.invitations', tests.id('pending')) ->> 'status', 'cancelled', 'it is cancelled');

-- Item 10: tracking columns come from the caller's identity.
select tests.authenticate_as(tests.id('team_a'));
select lives_ok(format($$insert into core.organization_files (id, file_url, file_type, organization_id, created_by, updated_by)
                         values ('11111111-2222-4333-8444-555555555555', 'https://files.example/f', 'text/plain', %L, %L, %L)$$,
                       tests.id('org_a'), tests.id('owner_a'), tests.id('owner_a')),
  'a member adds a file naming the owner as its author');
select is(tests.row_json('core.organization_files', '11111111-2222-4333-8444-555555555555') -> 'created_by',
          to_jsonb(tests.id('team_a')), 'the file records the member who added it');
select throws_ok(format('update core.organization_files set updated_by = %L where id = %L', tests.id('owner_a'), tests.id('file_a')),
  '42501', null, 'a member cannot name someone else as the author of a change');
select lives_ok(format('update core.organization_files set file_size = 42 where id = %L', tests.id('file_a')),
  'a member changes a file''s size');
select is(tests.row_json('core.organization_files', tests.id('file_a')) -> 'updated_by',
          to_jsonb(tests.id('team_a')), 'the change records the member who made it');

select tests.reset_identity();
select * from finish();
rollback;
