-- Schema public holds functions only (the API): no tables, views, sequences or other relations
-- of ours, and no extension (pgcrypto in particular lives in schema extensions).
begin;
select plan(4);

select is_empty(
  $$select c.relname || ' (' || c.relkind::text || ')' from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')$$,
  'public has no tables, views, materialized views, sequences or foreign tables');

select isnt(
  (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pgcrypto'),
  'public',
  'pgcrypto is not installed in public');

select is(
  (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pgcrypto'),
  'extensions',
  'pgcrypto is installed in schema extensions');

select is_empty(
  $$select e.extname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where n.nspname = 'public'$$,
  'no extension is installed in public');

select * from finish();
rollback;
