-- Defect 5 (invitation tokens stored in clear, with an index on them): the raw token is
-- returned once by create_invitation / resend_invitation and stored nowhere; the invitations
-- table holds only its SHA-256 in hex; nothing else in the database holds the raw token.
begin;
select plan(8);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', r.token, true), tests.remember('inv', r.id)
  from public.create_invitation('hashed@smta.test', tests.id('org_a'), tests.id('team_role')) r;
select tests.reset_identity();

select cmp_ok(length(current_setting('tests.token')), '>=', 32, 'the raw token is long enough to be unguessable');
select isnt(tests.row_json('core.invitations', tests.id('inv')) ->> 'token', current_setting('tests.token'),
  'the stored token is not the raw token');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'token',
  encode(sha256(convert_to(current_setting('tests.token'), 'UTF8')), 'hex'),
  'the stored token is the SHA-256 of the raw token, in hex');
select is_empty(
  format($$select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('core', 'platform') and c.relkind = 'r'
             and exists (select 1 from tests.rows(c.oid::regclass) r where r::text like '%%' || %L || '%%')$$,
         current_setting('tests.token')),
  'no core or platform table holds the raw token anywhere');

select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token2', token, true) from public.resend_invitation(tests.id('inv'));
select tests.reset_identity();
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'token',
  encode(sha256(convert_to(current_setting('tests.token2'), 'UTF8')), 'hex'),
  'after a resend the table holds the hash of the new token');
select is_empty(
  format($$select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname in ('core', 'platform') and c.relkind = 'r'
             and exists (select 1 from tests.rows(c.oid::regclass) r where r::text like '%%' || %L || '%%')$$,
         current_setting('tests.token2')),
  'no table holds the resent raw token');

-- Members can read invitation rows, but all they find is the hash.
select tests.authenticate_as(tests.id('team_a'));
select is((select token from core.invitations where id = tests.id('inv')),
  encode(sha256(convert_to(current_setting('tests.token2'), 'UTF8')), 'hex'),
  'what a member can read of the token column is the hash, useless as a token');
select tests.refused(format('select count(*) from public.accept_invitation(%L)',
                            encode(sha256(convert_to(current_setting('tests.token2'), 'UTF8')), 'hex')),
  'the stored hash does not work as a token', '{P0002,22023,42501,P0001}');

select tests.reset_identity();
select * from finish();
rollback;
