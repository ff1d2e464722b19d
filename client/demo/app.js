// The demo storefront: plain JavaScript over the Vouchsafe browser SDK (window.Vouchsafe, loaded
// from /sdk/v1.js). The page does what a shop's frontend would: track product views, validate a
// code for the cart, and hand the order to "its backend" (/demo/api/checkout) to redeem.
(function () {
  'use strict';

  var PRODUCTS = [
    { sku: 'sku_mug', name: 'Enamel mug', blurb: 'Speckled, 350 ml, survives campfires.', price: 1800, hue: 18 },
    { sku: 'sku_tee', name: 'Organic tee', blurb: 'Heavy cotton, boxy fit, undyed.', price: 2900, hue: 205 },
    { sku: 'sku_tote', name: 'Canvas tote', blurb: 'Waxed canvas, leather handles.', price: 1500, hue: 95 },
    { sku: 'sku_cap', name: 'Field cap', blurb: 'Six panels, brass buckle.', price: 2400, hue: 265 },
  ];

  var money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
  var formatCents = function (cents) {
    return money.format((Number(cents) || 0) / 100);
  };

  var state = {
    cart: new Map(), // sku -> quantity
    views: 0,
    user: null, // { email, name }
    voucher: null, // { code, result } of the last validation, for the cart as it is now
    validating: false,
    checkingOut: false,
  };
  // Bumped by every validation, so that an answer arriving late cannot overwrite a newer one.
  var validationSeq = 0;

  var $ = function (id) {
    return document.getElementById(id);
  };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') node.textContent = attrs[key];
      else if (key === 'className') node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child != null) node.append(child);
    });
    return node;
  }

  function productBySku(sku) {
    return PRODUCTS.find(function (p) {
      return p.sku === sku;
    });
  }

  function cartItems() {
    var items = [];
    state.cart.forEach(function (quantity, sku) {
      items.push({ sku_id: sku, quantity: quantity, price: productBySku(sku).price });
    });
    return items;
  }

  function subtotal() {
    return cartItems().reduce(function (sum, item) {
      return sum + item.price * item.quantity;
    }, 0);
  }

  function showNotice(node, kind, parts) {
    node.hidden = false;
    node.className = 'notice ' + kind;
    node.replaceChildren.apply(node, parts);
  }

  // --- products -------------------------------------------------------------------------------

  function renderProducts() {
    var list = $('product-list');
    list.replaceChildren.apply(
      list,
      PRODUCTS.map(function (p) {
        var initials = p.name
          .split(' ')
          .map(function (w) {
            return w[0];
          })
          .join('')
          .toUpperCase();
        return el('li', { className: 'product', 'data-testid': 'product-' + p.sku, 'data-sku': p.sku }, [
          el('div', { className: 'swatch', style: '--hue:' + p.hue, 'aria-hidden': 'true' }, [initials]),
          el('div', { className: 'product-body' }, [
            el('h3', { text: p.name }),
            el('p', { className: 'muted', text: p.blurb }),
            el('p', { className: 'price', text: formatCents(p.price) }),
          ]),
          el('div', { className: 'product-actions' }, [
            el('button', {
              type: 'button',
              className: 'button secondary',
              'data-action': 'view',
              'data-testid': 'view-' + p.sku,
              'aria-label': 'View ' + p.name,
              text: 'View',
            }),
            el('button', {
              type: 'button',
              className: 'button',
              'data-action': 'add',
              'data-testid': 'add-' + p.sku,
              'aria-label': 'Add ' + p.name + ' to cart',
              text: 'Add to cart',
            }),
          ]),
        ]);
      }),
    );
  }

  async function viewProduct(sku, button) {
    button.disabled = true;
    var result = await Vouchsafe.track('viewed_product', { sku: sku });
    button.disabled = false;
    if (result && !('error' in result)) {
      state.views++;
      button.closest('.product').classList.add('viewed');
      $('views').textContent = state.views + (state.views === 1 ? ' product view' : ' product views') + ' recorded in this session.';
    } else {
      $('views').textContent = 'Could not record the view: ' + ((result && result.error && result.error.message) || 'unknown error');
    }
  }

  // --- cart and voucher ------------------------------------------------------------------------

  function addToCart(sku) {
    state.cart.set(sku, (state.cart.get(sku) || 0) + 1);
    cartChanged();
  }

  function removeFromCart(sku) {
    var quantity = (state.cart.get(sku) || 0) - 1;
    if (quantity > 0) state.cart.set(sku, quantity);
    else state.cart.delete(sku);
    cartChanged();
  }

  /** A code applied to the old cart is checked again for the new one. */
  function cartChanged() {
    renderCart();
    if (state.voucher) applyVoucher(state.voucher.code);
  }

  function renderCart() {
    var items = cartItems();
    $('cart-empty').hidden = items.length > 0;
    var lines = $('cart-lines');
    lines.replaceChildren.apply(
      lines,
      items.map(function (item) {
        var p = productBySku(item.sku_id);
        return el('li', { 'data-testid': 'cart-line-' + item.sku_id }, [
          el('span', { className: 'line-name', text: p.name }),
          el('span', { className: 'qty' }, [
            el('button', {
              type: 'button',
              className: 'icon-button',
              'data-action': 'remove',
              'data-sku': item.sku_id,
              'aria-label': 'Remove one ' + p.name,
              text: '−',
            }),
            el('span', { text: '× ' + item.quantity }),
          ]),
          el('span', { className: 'line-price', text: formatCents(item.price * item.quantity) }),
          lineDiscount(item.sku_id),
        ]);
      }),
    );

    var total = subtotal();
    var result = state.voucher && state.voucher.result;
    var valid = !!(result && result.valid && result.order);
    $('cart-subtotal').textContent = formatCents(total);
    $('discount-row').hidden = !valid;
    if (valid) {
      $('discount-code').textContent = state.voucher.code;
      // Order-level and item-level discounts together (an item-scoped code like TEES15 has only the latter).
      $('cart-discount').textContent = '−' + formatCents(result.order.total_discount_amount);
      total = result.order.total_amount;
    }
    $('cart-total').textContent = formatCents(total);
    renderCheckout();
  }

  /** The discount the last validation gave this cart line (order.items[i].discount_amount), if any. */
  function lineDiscount(sku) {
    var result = state.voucher && state.voucher.result;
    var items = (result && result.valid && result.order && result.order.items) || [];
    var line = items.find(function (i) {
      return i.sku_id === sku;
    });
    if (!line || !line.discount_amount) return null;
    return el('span', { className: 'line-discount', 'data-testid': 'line-discount-' + sku, text: '−' + formatCents(line.discount_amount) });
  }

  function describeDiscount(discount) {
    if (!discount) return 'discount';
    var onItems = discount.effect && discount.effect.indexOf('APPLY_TO_ITEMS') === 0;
    if (discount.type === 'PERCENT') return discount.percent_off + '% off' + (onItems ? ' the eligible items' : '');
    if (discount.type === 'AMOUNT') return formatCents(discount.amount_off) + ' off';
    if (discount.type === 'FIXED') return 'fixed price of ' + formatCents(discount.fixed_amount);
    if (discount.type === 'UNIT') return discount.unit_off + ' free unit(s)';
    return discount.type;
  }

  async function applyVoucher(code) {
    var box = $('voucher-result');
    var seq = ++validationSeq;
    var settle = function () {
      state.validating = false;
      $('voucher-apply').disabled = false;
      box.removeAttribute('aria-busy');
    };
    code = String(code || '').trim();
    if (!code || state.cart.size === 0) {
      settle();
      state.voucher = null;
      delete box.dataset.valid;
      renderCart();
      showNotice(box, 'error', [code ? 'Add a product to the cart first.' : 'Enter a voucher code.']);
      return;
    }
    state.validating = true;
    renderCheckout();
    $('voucher-apply').disabled = true;
    box.setAttribute('aria-busy', 'true');
    var result = await Vouchsafe.validate({ code: code, amount: subtotal(), items: cartItems() });
    if (seq !== validationSeq) return;
    settle();
    state.voucher = { code: code, result: result };
    box.dataset.valid = String(!!result.valid);
    if (result.valid && result.order) {
      showNotice(box, 'success', [
        el('strong', { text: code }),
        ' applied: ' + describeDiscount(result.discount) + '. You save ',
        el('strong', { 'data-testid': 'voucher-discount', text: formatCents(result.order.total_discount_amount) }),
        ', new total ',
        el('strong', { 'data-testid': 'voucher-total', text: formatCents(result.order.total_amount) }),
        '.',
      ]);
    } else {
      var message = (result.error && result.error.message) || 'This code cannot be used.';
      showNotice(box, 'error', [
        el('strong', { text: code }),
        ' was not applied: ',
        el('span', { 'data-testid': 'voucher-message', text: message }),
        result.reason ? el('span', { className: 'reason', 'data-testid': 'voucher-reason', text: ' (' + result.reason + ')' }) : null,
      ]);
    }
    renderCart();
  }

  // --- account ---------------------------------------------------------------------------------

  /** POST or DELETE to the demo's own backend (same origin, JSON), which answers JSON or nothing. */
  async function backend(method, path, body) {
    var res = await fetch(path, {
      method: method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    var data = res.status === 204 ? null : await res.json();
    if (!res.ok) throw new Error((data && (data.details || data.message)) || 'HTTP ' + res.status);
    return data;
  }

  async function signIn(email, name) {
    // The shop's backend signs the shopper in and signs their identity (IDENTITY_SECRET, valid for
    // a day): the API believes the identity only with that signature, which the SDK sends in the
    // X-Vouchsafe-Identity-Signature header, never in a URL. The SDK hashes the email (SHA-256)
    // before anything goes to the API.
    var session;
    try {
      session = await backend('POST', '/demo/api/session', { email: email, name: name || undefined });
    } catch (e) {
      showNotice($('voucher-result'), 'error', ['Sign-in failed: ' + e.message]);
      return;
    }
    await Vouchsafe.setIdentity(email, { signature: session.signature });
    state.user = { email: email, name: name };
    renderAccount();
    // The code was judged for an anonymous visitor; judge it again for this customer.
    if (state.voucher) applyVoucher(state.voucher.code);
  }

  function signOut() {
    // A new tracking id: what happens next is not linked to the signed-out customer.
    Vouchsafe.reset();
    backend('DELETE', '/demo/api/session').catch(function () {});
    state.user = null;
    state.voucher = null;
    // A validation still in flight was for the signed-out customer: its answer is dropped.
    validationSeq++;
    state.validating = false;
    $('voucher-apply').disabled = false;
    $('voucher-result').removeAttribute('aria-busy');
    $('voucher-result').hidden = true;
    renderAccount();
    renderCart();
    renderTrackingId();
  }

  function renderAccount() {
    var signedIn = !!state.user;
    $('signin-form').hidden = signedIn;
    $('signed-in').hidden = !signedIn;
    if (signedIn) {
      $('signed-in-name').textContent = state.user.name || state.user.email;
      $('signed-in-email').textContent = state.user.name ? state.user.email : '';
    }
    renderCheckout();
  }

  function renderTrackingId() {
    $('tracking-id').textContent = Vouchsafe.getTrackingId() || 'none';
  }

  // --- checkout --------------------------------------------------------------------------------

  function renderCheckout() {
    var result = state.voucher && state.voucher.result;
    var ready = !!(state.user && result && result.valid && state.cart.size > 0);
    $('checkout-button').disabled = !ready || state.validating || state.checkingOut;
    var missing = [];
    if (state.cart.size === 0) missing.push('add a product');
    if (!state.user) missing.push('sign in');
    if (!(result && result.valid)) missing.push('apply a valid code');
    $('checkout-hint').textContent = state.checkingOut
      ? 'Placing the order…'
      : ready
        ? 'The shop backend redeems ' + state.voucher.code + ' for ' + state.user.email + '.'
        : 'To check out: ' + missing.join(', ').replace(/, ([^,]*)$/, ' and $1') + '.';
  }

  async function checkout() {
    var result = state.voucher && state.voucher.result;
    if (!state.user || !result || !result.valid) return;
    state.checkingOut = true;
    renderCheckout();
    // The backend redeems for the signed-in shopper (its session), never for an email sent here.
    var order = { code: state.voucher.code, amount: subtotal(), items: cartItems() };
    var trackingId = Vouchsafe.getTrackingId();
    if (trackingId) order.tracking_id = trackingId;
    var body;
    try {
      body = await backend('POST', '/demo/api/checkout', order);
    } catch (e) {
      state.checkingOut = false;
      renderCheckout();
      showNotice($('voucher-result'), 'error', ['Checkout failed: ' + (e && e.message ? e.message : String(e))]);
      return;
    }
    state.checkingOut = false;
    if (body.redeemed) {
      var paid = body.redemption && body.redemption.order ? body.redemption.order.total_amount : order.amount;
      state.cart.clear();
      state.voucher = null;
      $('voucher-code').value = '';
      $('voucher-result').hidden = true;
      showNotice($('order-result'), 'success', [
        'Order placed with ',
        el('strong', { text: order.code }),
        ': paid ',
        el('strong', { text: formatCents(paid) }),
        ' instead of ' + formatCents(order.amount) + '.',
      ]);
    } else {
      var error = body.redemption || {};
      showNotice($('order-result'), 'error', [
        'The shop backend could not redeem ',
        el('strong', { text: order.code }),
        ': ' + (error.message || 'refused') + (error.details ? ' (' + error.details + ')' : ''),
      ]);
    }
    $('order-result').dataset.redeemed = String(!!body.redeemed);
    renderCart();
    renderProfile(body);
  }

  function activityText(entry) {
    var data = entry.data || {};
    if (entry.type === 'customer.segment.entered' || entry.type === 'customer.segment.left') {
      var segment = data.segment || {};
      return (entry.type.endsWith('entered') ? 'Entered ' : 'Left ') + 'segment ' + (segment.name || segment.id || '');
    }
    if (entry.type === 'viewed_product' && data.sku) {
      var p = productBySku(data.sku);
      return 'Viewed ' + (p ? p.name : data.sku);
    }
    var keys = Object.keys(data);
    return keys.length ? JSON.stringify(data) : '';
  }

  function renderProfile(body) {
    var customer = body.customer || {};
    var orders = (customer.summary && customer.summary.orders) || {};
    $('profile-name').textContent = customer.name || '—';
    $('profile-email').textContent = customer.email || '—';
    $('profile-orders').textContent = String(orders.total_count ?? 0);
    $('profile-orders-total').textContent = formatCents(orders.total_amount);

    var segments = body.segments || [];
    var chips = $('profile-segments');
    chips.replaceChildren.apply(
      chips,
      segments.length
        ? segments.map(function (s) {
            return el('li', { className: 'chip', 'data-segment-id': s.id, text: s.name || s.id });
          })
        : [el('li', { className: 'muted', text: 'No segment yet.' })],
    );

    var activity = body.activity || [];
    var list = $('profile-activity');
    list.replaceChildren.apply(
      list,
      activity.length
        ? activity.map(function (a) {
            var when = new Date(a.created_at);
            return el('li', { 'data-type': a.type }, [
              el('code', { className: 'type', text: a.type }),
              el('span', { className: 'detail', text: activityText(a) }),
              el('time', { datetime: a.created_at, text: isNaN(when) ? '' : when.toLocaleTimeString('en-US') }),
            ]);
          })
        : [el('li', { className: 'muted', text: 'No activity.' })],
    );

    $('profile').hidden = false;
    $('profile').scrollIntoView({ block: 'start' });
  }

  // --- wiring ----------------------------------------------------------------------------------

  function wire() {
    $('product-list').addEventListener('click', function (event) {
      var button = event.target.closest('button[data-action]');
      if (!button) return;
      var sku = button.closest('.product').dataset.sku;
      if (button.dataset.action === 'view') viewProduct(sku, button);
      else addToCart(sku);
    });
    $('cart-lines').addEventListener('click', function (event) {
      var button = event.target.closest('button[data-action="remove"]');
      if (button) removeFromCart(button.dataset.sku);
    });
    $('voucher-form').addEventListener('submit', function (event) {
      event.preventDefault();
      applyVoucher($('voucher-code').value);
    });
    $('signin-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var email = $('signin-email').value.trim();
      if (!email) return;
      signIn(email, $('signin-name').value.trim());
    });
    $('signout-button').addEventListener('click', signOut);
    $('consent-banner').addEventListener('click', function (event) {
      var button = event.target.closest('button[data-consent]');
      if (!button) return;
      Vouchsafe.consent(button.dataset.consent === 'yes');
      $('consent-banner').hidden = true;
      renderTrackingId();
    });
    $('checkout-button').addEventListener('click', checkout);
  }

  async function start() {
    renderProducts();
    renderCart();
    renderAccount();
    var config;
    try {
      var res = await fetch('/demo/api/config');
      if (!res.ok) throw new Error('HTTP ' + res.status);
      config = await res.json();
    } catch (e) {
      $('tracking-id').textContent = 'unavailable';
      showNotice($('voucher-result'), 'error', ['Could not load the demo configuration: ' + e.message]);
      return;
    }
    // /demo/?consent=required: the SDK tracks nothing until the visitor accepts (data-require-consent).
    var requireConsent = new URLSearchParams(location.search).get('consent') === 'required';
    Vouchsafe.init({
      apiUrl: location.origin,
      clientApplicationId: config.clientApplicationId,
      clientToken: config.clientToken,
      requireConsent: requireConsent,
    });
    $('consent-banner').hidden = !requireConsent;
    renderTrackingId();
    wire();
    document.body.dataset.ready = 'true';
  }

  start();
})();
