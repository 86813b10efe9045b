/**
 * What the demo's throwaway cluster holds before Terraform runs: a small shop database to
 * grant on (with a finance schema nobody is granted) and an empty catalog database.
 */

/** The target database the configuration grants on. */
export const SHOP_DATABASE = 'shop';
/** The catalog database the provider keeps its records and audit log in. */
export const CATALOG_DATABASE = 'adaptive_catalog';

/** Run in the shop database as the superuser. */
export const SHOP_SQL = `
create table public.customers (
  id    int generated always as identity primary key,
  name  text not null,
  email text not null,
  city  text not null
);
insert into public.customers (name, email, city) values
  ('Ada Lovelace',    'ada@example.org',    'London'),
  ('Alan Turing',     'alan@example.org',   'Manchester'),
  ('Grace Hopper',    'grace@example.org',  'Arlington'),
  ('Edsger Dijkstra', 'edsger@example.org', 'Eindhoven');

create table public.orders (
  id          int generated always as identity primary key,
  customer_id int not null references public.customers,
  item        text not null,
  amount      numeric(10, 2) not null,
  ordered_at  timestamptz not null default now()
);
insert into public.orders (customer_id, item, amount) values
  (1, 'difference engine manual', 24.00),
  (2, 'enigma rotor set',         89.50),
  (3, 'compiler handbook',        42.00),
  (3, 'moth in a frame',          15.00),
  (4, 'shortest-path poster',     12.50);

create schema finance;
create table finance.payments (
  id         int generated always as identity primary key,
  order_id   int not null references public.orders,
  card_last4 text not null,
  amount     numeric(10, 2) not null
);
insert into finance.payments (order_id, card_last4, amount) values
  (1, '4242', 24.00), (2, '1881', 89.50), (3, '0007', 42.00);
`;
