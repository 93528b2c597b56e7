/*
 * Shared editor helpers for the node-red-contrib-shopify-d365 dialogs, served by Node-RED at
 * resources/node-red-contrib-shopify-d365/shopify-d365-editor.js. Load it in a node's .html with
 *   <script src="resources/node-red-contrib-shopify-d365/shopify-d365-editor.js"></script>
 *
 *   ShopifyD365Editor.csv.parse(text) -> string[][]     RFC 4180, `,` or `;` (detected), quotes, CRLF
 *   ShopifyD365Editor.csv.format(rows) -> string
 *   ShopifyD365Editor.validateRows(rows, columns) -> true | string[]   (for `defaults.<prop>.validate`)
 *   ShopifyD365Editor.validators.*                        reusable cell validators (value -> true | message)
 *   ShopifyD365Editor.mappingTable(selector, {columns:[{key,label,width,type,options,placeholder,validate}], rows, name})
 *     -> {getRows(), setRows(rows), validate()}         editableList rows (add/remove/reorder) + CSV import/export
 *   ShopifyD365Editor.settings.*                          whole-setting validators (v, opt) -> true | message (decimal, wholeNumber, cacheTtl, cacheMax)
 *   ShopifyD365Editor.checkDefaults(RED, connection, own) -> defaults: name, [connection], mode, then own
 *   ShopifyD365Editor.rowsValidator(columnsFn)            defaults.<table>.validate for a mapping table
 *   ShopifyD365Editor.strategyList(selector, {labels, strategies, onChange}) -> {current()}
 *   ShopifyD365Editor.strategyEnabled(strategies, name) -> boolean
 *
 * The CSV code mirrors nodes/lib/checks/csv.ts (the browser cannot load npm modules); a spec keeps both
 * in step. This file also loads under Node (module.exports) so that spec can require it.
 */
(function (root, factory) {
  var api = factory(root);
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.ShopifyD365Editor = api;
})(typeof window !== 'undefined' ? window : this, function (root) {
  'use strict';

  function detectDelimiter(text) {
    var commas = 0, semis = 0, quoted = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"') quoted = !quoted;
      else if (!quoted && (c === '\n' || c === '\r')) break;
      else if (!quoted && c === ',') commas++;
      else if (!quoted && c === ';') semis++;
    }
    return semis > commas ? ';' : ',';
  }

  function parse(text) {
    var src = String(text == null ? '' : text).replace(/^\uFEFF/, '');
    var delim = detectDelimiter(src);
    var rows = [], row = [], field = '', quoted = false, i = 0;
    function endRow() {
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    }
    while (i < src.length) {
      var c = src[i];
      if (quoted) {
        if (c === '"') {
          if (src[i + 1] === '"') { field += '"'; i += 2; continue; }
          quoted = false;
        } else {
          field += c;
        }
        i++;
        continue;
      }
      if (c === '"' && field === '') quoted = true;
      else if (c === delim) { row.push(field); field = ''; }
      else if (c === '\r' && src[i + 1] === '\n') { endRow(); i++; }
      else if (c === '\n' || c === '\r') endRow();
      else field += c;
      i++;
    }
    if (field !== '' || row.length) endRow();
    return rows;
  }

  function format(rows) {
    return rows.map(function (r) {
      return r.map(function (v) {
        var s = v == null ? '' : String(v);
        return /[",\r\n;]|^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
      }).join(',');
    }).join('\r\n') + (rows.length ? '\r\n' : '');
  }

  // Cell validators: value (string) -> true | message. Keep them in step with the zod config schemas.
  var validators = {
    required: function (what) {
      return function (v) { return v.trim() ? true : what + ' is empty'; };
    },
    code: function (what, max, required) {
      return function (v) {
        v = v.trim();
        if (!v) return required ? what + ' is empty' : true;
        return v.length <= max ? true : what + ' is longer than ' + max + ' characters';
      };
    },
    decimal: function (what, required) {
      return function (v) {
        v = v.trim();
        if (!v) return required ? what + ' is empty' : true;
        return /^\d+(\.\d+)?$/.test(v) ? true : what + ' must be a non-negative decimal number, e.g. 0.01';
      };
    },
    percent: function (what) {
      return function (v) {
        v = v.trim();
        return /^\d+(\.\d+)?$/.test(v) && Number(v) <= 100 ? true : what + ' must be a number between 0 and 100';
      };
    },
    pattern: function (what, re, hint) {
      return function (v) { return re.test(v.trim()) ? true : what + ': expected ' + hint; };
    },
    oneOf: function (what, values) {
      return function (v) { return values.indexOf(v) >= 0 ? true : what + ' must be one of ' + values.join(', '); };
    },
  };

  // Whole-setting validators (value -> true | message), shared by the check dialogs. Each declares
  // (v, opt): Node-RED 4 takes a returned message as "invalid" only from a two-parameter validator
  // (a one-parameter one's message counts as valid). Keep them in step with the zod config schemas.
  var settings = {
    decimal: function (v, opt) { return /^\s*\d+(\.\d+)?\s*$/.test(String(v)) ? true : 'must be a non-negative decimal number'; },
    wholeNumber: function (what, min, max) {
      return function (v, opt) {
        var s = String(v == null ? '' : v).trim();
        if (s === '') return true;
        return /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max ? true : what + ': a whole number from ' + min + ' to ' + max;
      };
    },
    cacheTtl: function (v, opt) { return /^\s*\d*\s*$/.test(String(v)) && Number(v) <= 86400 ? true : 'cache TTL: whole seconds, 0 to 86400'; },
    cacheMax: function (v, opt) { return /^\s*\d*\s*$/.test(String(v)) && (String(v).trim() === '' || Number(v) >= 1) ? true : 'cache size: a whole number of at least 1'; },
  };

  /**
   * The `defaults` every check node starts with: name, its D365 connection (`connection`: 'required' or
   * 'optional'; omit it for a node without one) and mode (annotate/divert), followed by the node's `own`.
   */
  function checkDefaults(RED, connection, own) {
    var d = { name: { value: '' } };
    if (connection) d.connection = { value: '', type: 'd365-connection', required: connection === 'required' };
    d.mode = { value: 'annotate', validate: RED.validators.regex(/^(annotate|divert)$/) };
    Object.keys(own).forEach(function (k) { d[k] = own[k]; });
    return d;
  }

  /** A `defaults.<table>.validate` for a mapping table whose columns come from `columns()`. */
  function rowsValidator(columns) {
    return function (rows, opt) { return validateRows(rows, columns()); };
  }

  function strategyEnabled(strategies, name) {
    return (strategies || []).some(function (s) { return s.name === name && s.enabled; });
  }

  /**
   * A sortable list of strategies, a tick box each; the order is the order they are tried in. Saved
   * strategies come first, known ones missing from them are appended switched off, unknown ones are
   * dropped. opts: {labels: {name: text} (its key order is the default order), strategies, onChange}.
   * Returns {current()} -> [{name, enabled}] as shown.
   */
  function strategyList(selector, opts) {
    var $ = root.jQuery;
    var $list = $(selector).editableList({
      addButton: false, removable: false, sortable: true, height: 'auto',
      addItem: function (row, i, data) {
        var $cb = $('<input type="checkbox">').css({ width: 'auto', margin: '0 8px 0 0' }).prop('checked', !!data.enabled);
        $('<label></label>').css({ width: 'auto', margin: 0 }).append($cb).append($('<span></span>').text(opts.labels[data.name] || data.name)).appendTo(row);
        row.data('strategy', data.name);
        row.data('enabled', $cb);
        $cb.on('change', opts.onChange);
      },
    });
    var listed = (opts.strategies || []).filter(function (s) { return opts.labels[s.name]; });
    Object.keys(opts.labels).forEach(function (n) { if (!listed.some(function (s) { return s.name === n; })) listed.push({ name: n, enabled: false }); });
    listed.forEach(function (s) { $list.editableList('addItem', s); });
    return {
      current: function () {
        var out = [];
        $list.editableList('items').each(function () { out.push({ name: $(this).data('strategy'), enabled: $(this).data('enabled').prop('checked') }); });
        return out;
      },
    };
  }

  function cellValue(row, key) {
    var v = row && Object.prototype.hasOwnProperty.call(row, key) ? row[key] : '';
    return v == null ? '' : String(v);
  }

  function validateRows(rows, columns) {
    if (!Array.isArray(rows)) return ['expected a table'];
    var errors = [];
    rows.forEach(function (row, i) {
      columns.forEach(function (c) {
        if (!c.validate) return;
        var r = c.validate(cellValue(row, c.key), row);
        if (r !== true) errors.push('row ' + (i + 1) + ': ' + r);
      });
    });
    return errors.length ? errors : true;
  }

  /** Maps imported CSV rows onto the columns: by header (key or label) when the first row is one, else by position. */
  function rowsFromCsv(table, columns) {
    if (!table.length) return [];
    var norm = function (s) { return String(s).trim().toLowerCase(); };
    var first = table[0].map(norm);
    var index = columns.map(function (c) {
      var at = first.indexOf(norm(c.key));
      return at >= 0 ? at : first.indexOf(norm(c.label));
    });
    var hasHeader = index.some(function (i) { return i >= 0; });
    var body = hasHeader ? table.slice(1) : table;
    return body.map(function (cells) {
      var row = {};
      columns.forEach(function (c, ci) {
        var at = hasHeader ? index[ci] : ci;
        row[c.key] = at >= 0 && at < cells.length ? cells[at].trim() : (c.default || '');
      });
      return row;
    });
  }

  function csvFromRows(rows, columns) {
    return format([columns.map(function (c) { return c.key; })].concat(rows.map(function (r) {
      return columns.map(function (c) { return cellValue(r, c.key); });
    })));
  }

  function mappingTable(selector, opts) {
    var $ = root.jQuery;
    var columns = opts.columns;
    var $container = $(selector).empty();
    var width = function (c) { return c.width || 'calc(' + (100 / columns.length) + '% - 6px)'; };

    var $header = $('<div class="sd365-table-header"></div>')
      .css({ display: 'flex', gap: '6px', padding: '0 28px 2px 28px', fontSize: '0.9em', fontWeight: 'bold' }).appendTo($container);
    columns.forEach(function (c) { $('<span></span>').text(c.label).css({ width: width(c) }).appendTo($header); });
    var $list = $('<ol class="sd365-table"></ol>').appendTo($container);

    function check($input, c, rowData) {
      if (!c.validate) return true;
      var r = c.validate(String($input.val() == null ? '' : $input.val()), rowData);
      $input.toggleClass('input-error', r !== true).attr('title', r === true ? '' : r);
      return r;
    }

    $list.editableList({
      addButton: true, removable: true, sortable: true, height: opts.height || 180,
      addItem: function (container, index, data) {
        var $row = $('<div></div>').css({ display: 'flex', gap: '6px' }).appendTo(container);
        var cells = {};
        columns.forEach(function (c) {
          var value = cellValue(data, c.key) || c.default || '';
          var $input = $('<input type="text">').css({ width: width(c) }).attr('placeholder', c.placeholder || '')
            .addClass('sd365-cell-' + c.key).appendTo($row);
          if (c.type === 'select') {
            // typedInput with one option-list type renders a compact dropdown that fits the row.
            $input.typedInput({ types: [{ value: c.key, options: c.options }] });
            $input.typedInput('value', value || (c.options[0].value !== undefined ? c.options[0].value : c.options[0]));
            $input.typedInput('width', width(c));
          } else {
            $input.val(value);
            $input.on('change keyup', function () { check($input, c, collect(cells)); });
          }
          cells[c.key] = { $input: $input, column: c };
        });
        container.data('cells', cells);
        columns.forEach(function (c) { if (c.type !== 'select') check(cells[c.key].$input, c, collect(cells)); });
      },
    });

    function collect(cells) {
      var row = {};
      Object.keys(cells).forEach(function (k) {
        var cell = cells[k];
        row[k] = String(cell.column.type === 'select' ? cell.$input.typedInput('value') : cell.$input.val()).trim();
      });
      return row;
    }

    function getRows() {
      var out = [];
      $list.editableList('items').each(function () {
        var row = collect($(this).data('cells'));
        var blank = Object.keys(row).every(function (k) {
          var c = columns.filter(function (col) { return col.key === k; })[0];
          return row[k] === '' || c.type === 'select';
        });
        if (!blank) out.push(row);
      });
      return out;
    }

    function setRows(rows) {
      $list.editableList('empty');
      (rows || []).forEach(function (r) { $list.editableList('addItem', r); });
    }

    var $buttons = $('<div></div>').css({ marginTop: '4px', display: 'flex', gap: '6px' }).appendTo($container);
    var $file = $('<input type="file" accept=".csv,text/csv,text/plain">').hide().appendTo($buttons);
    $('<button type="button" class="red-ui-button red-ui-button-small"><i class="fa fa-upload"></i> Import CSV</button>')
      .appendTo($buttons).on('click', function () { $file.val(''); $file.trigger('click'); });
    $('<button type="button" class="red-ui-button red-ui-button-small"><i class="fa fa-download"></i> Export CSV</button>')
      .appendTo($buttons).on('click', function () {
        var blob = new root.Blob([csvFromRows(getRows(), columns)], { type: 'text/csv' });
        var a = root.document.createElement('a');
        a.href = root.URL.createObjectURL(blob);
        a.download = (opts.name || 'mapping') + '.csv';
        root.document.body.appendChild(a);
        a.click();
        root.setTimeout(function () { root.URL.revokeObjectURL(a.href); a.remove(); }, 0);
      });
    var $note = $('<span></span>').css({ fontSize: '0.85em', alignSelf: 'center' }).appendTo($buttons);
    $file.on('change', function () {
      var f = this.files && this.files[0];
      if (!f) return;
      var reader = new root.FileReader();
      reader.onload = function () {
        var rows = rowsFromCsv(parse(reader.result), columns);
        setRows(rows);
        var bad = validateRows(rows, columns);
        $note.text('Imported ' + rows.length + ' row(s) from ' + f.name + (bad === true ? '' : '; ' + bad.length + ' need fixing (marked red)'));
      };
      reader.readAsText(f);
    });

    setRows(opts.rows);
    return {
      getRows: getRows,
      setRows: setRows,
      validate: function () { return validateRows(getRows(), columns); },
      resize: function (height) { $list.editableList('height', height); },
    };
  }

  return {
    csv: { parse: parse, format: format },
    validators: validators,
    validateRows: validateRows,
    rowsFromCsv: rowsFromCsv,
    csvFromRows: csvFromRows,
    mappingTable: mappingTable,
    settings: settings,
    checkDefaults: checkDefaults,
    rowsValidator: rowsValidator,
    strategyEnabled: strategyEnabled,
    strategyList: strategyList,
  };
});
