-- A caller in role authenticated but without a user id (a misconfigured or expired identity)
-- is refused with 42501 by every public function, before any validation of its arguments.
-- Generated from the catalogue. Two functions are exempt because the contract lets them answer
-- without a user: get_invitation_details (the invitation landing page: it must still reveal
-- nothing for an unknown token) and list_subscription_products (public pricing).
begin;

create temporary view our_public_functions as
select p.oid,
       p.proname,
       p.oid::regprocedure::text as signature,
       tests.sample_call(p.oid) as call
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'public'
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e');
grant select on our_public_functions to public;

select plan(2 + (select count(*)::int from our_public_functions
                 where proname not in ('get_invitation_details', 'list_subscription_products')));

select tests.reset_identity();
select set_config('role', 'authenticated', true);

select is(core.get_current_user_id(), null, 'the caller has no user id');

select tests.refused(f.call, format('a caller without identity is refused %s', f.signature), '{42501}')
from our_public_functions f
where f.proname not in ('get_invitation_details', 'list_subscription_products')
order by f.signature;

select tests.sees_nothing(
  $$select count(*) from public.get_invitation_details('sample')$$,
  'get_invitation_details reveals nothing to a caller without identity');

select tests.reset_identity();
select * from finish();
rollback;
