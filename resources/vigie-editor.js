/**
 * Field checks shared by Vigie's editor forms (nodes/*.html). Node-RED serves this file at
 * resources/node-red-dashboard-2-vigie/vigie-editor.js; a form loads it with
 *   <script src="resources/node-red-dashboard-2-vigie/vigie-editor.js"></script>
 * (a relative URL: the editor loads such a script before it runs the forms' own scripts), then
 * keeps only its own field rules.
 *
 * A check returns true, or why the value is refused: the editor shows that text over the red
 * field and in the node's list of invalid properties, but only from a validator declared with two
 * parameters, (v, opt). Every check made here is declared so.
 *
 * Tracked in git, unlike the rest of resources/ (the dashboard widget, built by Vite).
 */
var VigieEditor = (function () {
  'use strict';

  function isEmpty(v) {
    return v === undefined || v === null || String(v).trim() === '';
  }

  /** Whether `v` is a number from min to max (whole when `integer`). */
  function inRange(v, min, max, integer) {
    var n = Number(v);
    return Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
  }

  /**
   * A number from min to max. o.integer: whole; o.unit: said after the range ("°…" right after the
   * number, any other unit after a space); o.empty: what an empty field means (else it is required).
   */
  function range(label, min, max, o) {
    o = o || {};
    var why = label + ': expected ' + (o.integer ? 'a whole number' : 'a number') + ' from ' + min + ' to ' + max +
      (o.unit ? (o.unit.charAt(0) === '°' ? '' : ' ') + o.unit : '') + (o.empty !== undefined ? ' (empty: ' + o.empty + ')' : '');
    return function (v, opt) {
      if (isEmpty(v)) return o.empty !== undefined ? true : why;
      return inRange(v, min, max, o.integer) ? true : why;
    };
  }

  /**
   * `check`, then, when it passes, `next` given the value as a number (`emptyValue` when the field
   * is empty): for a rule between fields (a range's min and max), or one the form learns later.
   */
  function andThen(check, next, emptyValue) {
    return function (v, opt) {
      var r = check.call(this, v, opt);
      return r === true ? next.call(this, isEmpty(v) ? emptyValue : Number(v)) : r;
    };
  }

  /** Another field's value: in the node's open dialog, else the node's own. */
  function formValue(node, name) {
    var f = $('#node-input-' + name);
    return f.length ? f.val() : node[name];
  }

  /** The same for a config node's dialog. */
  function configFormValue(node, name) {
    var f = $('#node-config-input-' + name);
    return f.length ? f.val() : node[name];
  }

  /** A config node of `type`, chosen and valid; `expected`: what to choose, e.g. "a vigie-sensor". */
  function configNode(label, type, expected) {
    return function (v, opt) {
      if (!v || v === '_ADD_') return label + ': expected ' + expected + ' (choose one, or add one with +)';
      var c = RED.nodes.node(v);
      if (!c) return label + ': the chosen ' + type + ' no longer exists';
      return c.valid === false ? label + ': the chosen ' + type + ' has invalid properties (edit it with the pencil)' : true;
    };
  }

  /** Whether a URL carries a password, as the runtime reads it (lib/util/url-credentials.ts hasPassword). */
  function hasPassword(url) {
    try {
      return new URL(String(url).trim()).password !== '';
    } catch (e) {
      return false;
    }
  }

  /** A value that is wholly an environment reference, ${NAME} or $(NAME): another value wherever it is read. */
  function isEnvReference(v) {
    return /^\$(\{[^}]+\}|\([^)]+\))$/.test(String(v).trim());
  }

  /** The subflow whose template holds node `n`, or null (at the top level, on a tab or on none). */
  function subflowOf(n) {
    return n && n.z && RED.nodes.subflow ? RED.nodes.subflow(n.z) || null : null;
  }

  /**
   * Another config node of `type` that takes the same id as `node` would with `id` in its `field`:
   * the first found, or null. The id is read as the runtime reads it: trimmed, an empty one being
   * the node's own id (o.emptyIsNodeId) or no id. An environment reference is never compared (each
   * place it runs reads its own value); neither is a disabled node (never deployed), nor `node` itself.
   * o.sameScope: only a node in the same place (both outside subflows, or both in one subflow's
   * template), as the runtime refuses them; else anywhere.
   */
  function sameIdElsewhere(node, type, field, id, o) {
    o = o || {};
    var idOf = function (n, v) {
      v = isEmpty(v) ? '' : String(v).trim();
      return v === '' && o.emptyIsNodeId ? n.id : v;
    };
    var mine = idOf(node, id);
    if (!mine || isEnvReference(mine)) return null;
    var mySubflow = subflowOf(node);
    var found = null;
    RED.nodes.eachConfig(function (n) {
      if (found || n.type !== type || n === node || (node && n.id === node.id) || n.d) return;
      if (o.sameScope && subflowOf(n) !== mySubflow) return;
      if (idOf(n, n[field]) === mine) found = n;
    });
    return found;
  }

  /** How a form names another config node: its label, and its id to find it by (Search, ctrl-F). */
  function nodeWords(type, n) {
    var label = n.name || '';
    return type + (label ? ' "' + label + '"' : '') + ' (node ' + n.id + (subflowOf(n) ? ', in subflow "' + (subflowOf(n).name || subflowOf(n).id) + '"' : '') + ')';
  }

  // After a URL field's label. The runtime adds the user and password fields to the URLs it
  // opens; a password in the URL itself would be saved in plain text in the flows.
  var PASSWORD_IN_URL = ': expected no password in the URL (it would be saved in plain text in the flows); put the user and password in the user and password fields of this form';

  return Object.freeze({
    isEmpty: isEmpty,
    inRange: inRange,
    range: range,
    andThen: andThen,
    formValue: formValue,
    configFormValue: configFormValue,
    configNode: configNode,
    hasPassword: hasPassword,
    isEnvReference: isEnvReference,
    subflowOf: subflowOf,
    sameIdElsewhere: sameIdElsewhere,
    nodeWords: nodeWords,
    PASSWORD_IN_URL: PASSWORD_IN_URL
  });
})();
