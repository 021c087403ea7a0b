-- 0023_products: the subscription products (plans and prices) the platform sells.
-- Platform users manage them through platform.*; signed-in users list the active ones through
-- public.list_subscription_products (anonymous callers get nothing: every public.* function
-- requires an identity, a deliberate difference from upstream, which let anon list them).

-- platform.list_all_subscription_products: every non-deleted product, active or not, by name.
-- Platform users and the service role (see 0021). Raises 42501 for other identities.
create or replace function platform.list_all_subscription_products()
returns table (
    id uuid,
    paymentprocessor_price_id text,
    name text,
    description text,
    billing_interval text,
    amount integer,
    is_active boolean,
    metadata jsonb,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz,
    updated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform platform.ensure_platform_user();

    return query
    select sp.id, sp.paymentprocessor_price_id, sp.name, sp.description, sp.billing_interval,
           sp.amount, sp.is_active, sp.metadata, sp.created_by, sp.updated_by, sp.is_deleted,
           sp.deleted_at, sp.deleted_by, sp.created_at, sp.updated_at
    from platform.subscription_products as sp
    where not sp.is_deleted
    order by sp.name, sp.id;
end;
$$;

revoke all on function platform.list_all_subscription_products() from public, anon, authenticated;
grant execute on function platform.list_all_subscription_products() to app_admin;

-- platform.add_subscription_product: creates a product and returns it. p_amount is in the
-- currency's smallest unit (cents); p_is_active null means active; p_metadata null means {}.
-- Platform super_admins and the service role.
-- Raises 42501 for other identities, 22023 for an empty price id, name or billing interval or
-- a negative amount, 23505 when a product (even a deleted one) already has this price id.
create or replace function platform.add_subscription_product(
    p_paymentprocessor_price_id text,
    p_name text,
    p_description text,
    p_billing_interval text,
    p_amount integer,
    p_is_active boolean,
    p_metadata jsonb
)
returns table (
    id uuid,
    paymentprocessor_price_id text,
    name text,
    description text,
    billing_interval text,
    amount integer,
    is_active boolean,
    metadata jsonb,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz,
    updated_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_actor uuid := core.get_current_user_id();
    v_price_id text := btrim(p_paymentprocessor_price_id);
    v_product platform.subscription_products;
begin
    perform platform.ensure_platform_admin();

    if coalesce(v_price_id, '') = ''
       or coalesce(btrim(p_name), '') = ''
       or coalesce(btrim(p_billing_interval), '') = '' then
        raise exception 'A price id, a name and a billing interval are required'
            using errcode = '22023';
    end if;
    if p_amount is null or p_amount < 0 then
        raise exception 'The amount must be zero or more'
            using errcode = '22023';
    end if;
    if exists (
        select 1 from platform.subscription_products as sp
        where sp.paymentprocessor_price_id = v_price_id
    ) then
        raise exception 'A product with this price id already exists'
            using errcode = '23505';
    end if;

    insert into platform.subscription_products (
        paymentprocessor_price_id, name, description, billing_interval, amount, is_active,
        metadata, created_by, updated_by
    )
    values (
        v_price_id, btrim(p_name), p_description, btrim(p_billing_interval), p_amount,
        coalesce(p_is_active, true), coalesce(p_metadata, '{}'::jsonb), v_actor, v_actor
    )
    returning * into v_product;

    perform platform.log_platform_action(
        'create', 'platform.subscription_products', v_product.id, 'Created a subscription product',
        jsonb_build_object('name', v_product.name, 'paymentprocessor_price_id', v_price_id)
    );

    return query
    select v_product.id, v_product.paymentprocessor_price_id, v_product.name,
           v_product.description, v_product.billing_interval, v_product.amount,
           v_product.is_active, v_product.metadata, v_product.created_by, v_product.updated_by,
           v_product.is_deleted, v_product.deleted_at, v_product.deleted_by,
           v_product.created_at, v_product.updated_at;
end;
$$;

revoke all on function platform.add_subscription_product(text, text, text, text, integer, boolean, jsonb)
    from public, anon, authenticated;
grant execute on function platform.add_subscription_product(text, text, text, text, integer, boolean, jsonb)
    to app_admin;

-- public.list_subscription_products: the active, non-deleted products, cheapest first (for a
-- pricing or upgrade page). Any authenticated user.
-- Raises 42501 when unauthenticated.
create or replace function public.list_subscription_products()
returns table (
    id uuid,
    name text,
    description text,
    billing_interval text,
    amount integer,
    created_at timestamptz,
    updated_at timestamptz,
    created_by uuid,
    updated_by uuid
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform core.require_user_id();

    return query
    select sp.id, sp.name, sp.description, sp.billing_interval, sp.amount,
           sp.created_at, sp.updated_at, sp.created_by, sp.updated_by
    from platform.subscription_products as sp
    where sp.is_active
      and not sp.is_deleted
    order by sp.amount, sp.name, sp.id;
end;
$$;

revoke all on function public.list_subscription_products() from public, anon;
grant execute on function public.list_subscription_products() to app_user;
