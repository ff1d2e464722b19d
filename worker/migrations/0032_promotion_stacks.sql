-- Promotion stacks (OA PromotionStack, readOnly-openAPI.json:L22279): a named, ordered group of
-- the tiers of one PROMOTION campaign, sent as one `promotion_stack` redeemable at checkout and
-- judged as its tiers, in the stack's order.
--
-- The campaign's delete removes its stacks (ON DELETE CASCADE), as it removes its tiers.
CREATE TABLE promotion_stacks (
  id             TEXT PRIMARY KEY,
  campaign_id    TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  -- OA PromotionStackBase.tiers.hierarchy_mode: MANUAL is the only mode the spec has.
  hierarchy_mode TEXT NOT NULL DEFAULT 'MANUAL' CHECK (hierarchy_mode IN ('MANUAL')),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER
);
CREATE INDEX promotion_stacks_campaign ON promotion_stacks (campaign_id, created_at);
CREATE INDEX promotion_stacks_created ON promotion_stacks (created_at);

-- The stack's tiers in its order, a row each rather than a JSON list, so that a tier's delete takes
-- it out of every stack by the foreign key (ON DELETE CASCADE) instead of by rewriting lists.
CREATE TABLE promotion_stack_tiers (
  stack_id TEXT NOT NULL REFERENCES promotion_stacks (id) ON DELETE CASCADE,
  tier_id  TEXT NOT NULL REFERENCES vouchers (id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  PRIMARY KEY (stack_id, tier_id)
);
CREATE INDEX promotion_stack_tiers_tier ON promotion_stack_tiers (tier_id);
