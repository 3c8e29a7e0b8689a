package dev.lowbit.numerics;

import dev.lowbit.format.Granularity;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Multiplier;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A numerics policy: an ordered list of rules (layer-name patterns, roles) → {@link Spec}; for a
 * (layer, role) the first matching rule wins and no match means the value stays fp32. Layers never
 * name a format; they ask the policy ({@link #lookup}, {@link #arithmetic}).
 *
 * <p>Text form (one rule or directive per line, {@code #} starts a comment):
 *
 * <pre>
 *   policy NAME                          the policy's name (optional, at most once)
 *   option KEY VALUE                     a policy-wide setting, see {@link Options}
 *   LAYERS ROLES FORMAT [ROUNDING] [GRANULARITY]     tensor roles
 *   LAYERS ROLES SPEC [PRODUCTS]                     multiplier / accumulator
 *   LAYERS ROLES APPROXIMATION                       function roles (softmax, gelu, exp, ...)
 * </pre>
 *
 * LAYERS is a comma-separated list of globs over hierarchical layer names ({@code *} any run of
 * characters, {@code ?} one character); ROLES a comma-separated list of {@link Role} names, all
 * tensor roles, all arithmetic ones or all function roles; APPROXIMATION an {@link
 * Approximation} ({@code exact}, {@code poly:N}, a minifloat); FORMAT a {@link dev.lowbit.format.NumberFormat} string or
 * {@code fp32} (keep); PRODUCTS a comma-separated list of {@link Product} names (default all).
 * Policy files are UTF-8 text (a leading byte-order mark is skipped; other encodings and binary
 * files are refused, naming the offset); every message names the file and line. Before training,
 * {@link #check} binds the policy to a model: a granularity axis that a matched tensor lacks is an
 * error, a rule that matches nothing a warning. Immutable and safe to share between threads.
 */
public final class Policy {

  /** One rule: which layers and roles, and what to do with them. */
  public record Rule(List<String> layers, Set<Role> roles, Spec spec) {
    public Rule {
      if (layers == null || layers.isEmpty()) throw new IllegalArgumentException("a rule needs a layer pattern");
      for (String p : layers) checkPattern(p);
      layers = List.copyOf(layers);
      if (roles == null || roles.isEmpty()) throw new IllegalArgumentException("a rule needs a role");
      roles = Collections.unmodifiableSet(EnumSet.copyOf(roles));
      Objects.requireNonNull(spec, "spec");
      boolean tensor = roles.iterator().next().isTensor();
      checkFunctionRule(roles, spec);
      for (Role r : roles) {
        if (r.isTensor() != tensor) {
          throw new IllegalArgumentException("roles " + rolesText(roles) + " mix tensor roles with "
              + "multiplier/accumulator; write them as separate rules");
        }
      }
      if (roles.contains(Role.MULTIPLIER) && roles.contains(Role.ACCUMULATOR)) {
        throw new IllegalArgumentException("multiplier and accumulator take different specs; "
            + "write them as separate rules");
      }
      if (!roles.iterator().next().isFunction() && tensor == spec instanceof Spec.Arithmetic) {
        throw new IllegalArgumentException("spec '" + spec.text() + "' does not fit roles " + rolesText(roles));
      }
    }

    /** True when this rule covers {@code role} of layer {@code layer}. */
    public boolean matches(String layer, Role role) {
      if (!roles.contains(role)) return false;
      for (String p : layers) if (glob(p, layer)) return true;
      return false;
    }

    /** The rule as one line of a policy file. */
    public String text() {
      return String.join(",", layers) + "  " + rolesText(roles) + "  " + spec.text();
    }
  }

  /**
   * A rule's function roles: all or none of its roles are function roles, whose spec is an {@link
   * Spec.Approximate} that fits each of them.
   */
  static void checkFunctionRule(Set<Role> roles, Spec spec) {
    if (hasFunctionRole(roles) != spec instanceof Spec.Approximate) {
      throw new IllegalArgumentException("spec '" + spec.text() + "' does not fit roles " + rolesText(roles));
    }
    if (spec instanceof Spec.Approximate a) {
      for (Role r : roles) {
        if (!a.approximation().fits(r)) {
          throw new IllegalArgumentException("approximation '" + a.text() + "' does not apply to role " + r
              + "; valid for " + r + ": " + Approximation.validFor(r));
        }
      }
    }
  }

  /**
   * True when {@code roles} are function roles, false when none is.
   *
   * @throws IllegalArgumentException when they mix function roles with others
   */
  static boolean hasFunctionRole(Set<Role> roles) {
    boolean function = false, other = false;
    for (Role r : roles) {
      if (r.isFunction()) function = true;
      else other = true;
    }
    if (function && other) {
      throw new IllegalArgumentException("roles " + rolesText(roles) + " mix function roles with tensor or "
          + "arithmetic roles; write them as separate rules");
    }
    return function;
  }

  /** Storage bits per value of the main tensors (32 for fp32). */
  public record Bits(double weight, double activation, double gradient) {}

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");
  private static final Pattern LAYER = Pattern.compile("[^\\s,#]+");

  private final String name;
  private final List<Rule> rules;
  private final List<String> origins; // where each rule was written ("FILE:LINE"), for messages only
  private final Map<String, String> options;
  private final Map<String, Optional<Spec>> cache = new ConcurrentHashMap<>();

  /**
   * A policy from parts; {@code options} are checked by {@link Options#check}.
   *
   * @throws IllegalArgumentException on a bad name or option
   */
  public Policy(String name, List<Rule> rules, Map<String, String> options) {
    this(name, rules, options, null);
  }

  private final MethodOptions methods;

  private Policy(String name, List<Rule> rules, Map<String, String> options, List<String> origins) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("bad policy name '" + name
          + "'; use letters, digits and . _ + - (starting with a letter or digit)");
    }
    this.name = name;
    this.rules = List.copyOf(rules);
    if (origins == null) {
      List<String> o = new ArrayList<>();
      for (int i = 0; i < this.rules.size(); i++) o.add("policy " + name + " rule " + (i + 1));
      origins = o;
    }
    if (origins.size() != this.rules.size()) throw new IllegalArgumentException("one origin per rule");
    this.origins = List.copyOf(origins);
    LinkedHashMap<String, String> o = new LinkedHashMap<>();
    for (var e : options.entrySet()) o.put(e.getKey(), Options.check(e.getKey(), e.getValue()));
    this.options = Collections.unmodifiableMap(o);
    this.methods = MethodOptions.of(this.options);
  }

  /** The options as values (parsed once, here). */
  public MethodOptions methods() {
    return methods;
  }

  public String name() {
    return name;
  }

  public List<Rule> rules() {
    return rules;
  }

  /** Policy-wide settings (see {@link Options}), in file order. */
  public Map<String, String> options() {
    return options;
  }

  /** The value of an option, if set. */
  public Optional<String> option(String key) {
    return Optional.ofNullable(options.get(key));
  }

  /** A copy with another name. */
  public Policy withName(String newName) {
    return new Policy(newName, rules, options, origins);
  }

  /**
   * Where rule {@code i} was written, for messages: {@code FILE:LINE} for a policy file, {@code
   * policy line N} for parsed text, {@code FILE: rules[N]} for JSON. Not part of the policy's value.
   */
  public String origin(int i) {
    return origins.get(i);
  }

  // ---- lookup -----------------------------------------------------------------------------------

  /** The spec of the first rule covering (layer, role), or empty when none does. */
  public Optional<Spec> spec(String layer, Role role) {
    Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(role, "role");
    return cache.computeIfAbsent(role.label() + '\u0000' + layer, k -> {
      for (Rule r : rules) if (r.matches(layer, role)) return Optional.of(r.spec());
      return Optional.empty();
    });
  }

  /**
   * The quantizer for a tensor role of a layer; empty when the value stays fp32.
   *
   * @throws IllegalArgumentException for multiplier and accumulator (use {@link #arithmetic})
   */
  public Optional<Quantizer> lookup(String layer, Role role) {
    if (!role.isTensor()) {
      throw new IllegalArgumentException(role + " is not a tensor role; use " + (role.isFunction()
          ? "approximation(layer, role)" : "arithmetic(layer, role, product)"));
    }
    return spec(layer, role).flatMap(s -> s instanceof Spec.Quantize q ? Optional.of(q.quantizer()) : Optional.empty());
  }

  /**
   * The multiplier or accumulator string for one GEMM of a layer; empty means the default (exact
   * products, fp32 sums). The first rule covering (layer, role) decides, whether or not it lists
   * {@code product}.
   */
  public Optional<String> arithmetic(String layer, Role role, Product product) {
    if (role.isTensor()) {
      throw new IllegalArgumentException(role + " is a tensor role; use lookup(layer, role)");
    }
    if (role.isFunction()) {
      throw new IllegalArgumentException(role + " is a function role; use approximation(layer, role)");
    }
    return arithmeticRule(layer, role, product).map(Spec.Arithmetic::spec);
  }

  /** The multiplier rule for one GEMM of a layer, parsed when the policy was read; empty: exact products. */
  public Optional<Multiplier> multiplier(String layer, Product product) {
    return arithmeticRule(layer, Role.MULTIPLIER, product).map(Spec.Arithmetic::multiplier);
  }

  /** The accumulator rule for one GEMM of a layer, parsed when the policy was read; empty: fp32 sums. */
  public Optional<Accumulator> accumulator(String layer, Product product) {
    return arithmeticRule(layer, Role.ACCUMULATOR, product).map(Spec.Arithmetic::accumulator);
  }

  private Optional<Spec.Arithmetic> arithmeticRule(String layer, Role role, Product product) {
    Objects.requireNonNull(product, "product");
    return spec(layer, role).flatMap(s -> s instanceof Spec.Arithmetic a && a.products().contains(product)
        ? Optional.of(a) : Optional.empty());
  }

  /**
   * How layer {@code layer} evaluates function role {@code role}: the first covering rule's
   * approximation, {@link Approximation#EXACT} when none covers it.
   *
   * @throws IllegalArgumentException for a role that is not a function role
   */
  public Approximation approximation(String layer, Role role) {
    if (!role.isFunction()) {
      throw new IllegalArgumentException(role + " is not a function role; valid: " + functionRoleNames());
    }
    return spec(layer, role).map(s -> ((Spec.Approximate) s).approximation()).orElse(Approximation.EXACT);
  }

  /** The function roles' names, comma-separated. */
  static String functionRoleNames() {
    StringBuilder sb = new StringBuilder();
    for (Role r : Role.values()) {
      if (!r.isFunction()) continue;
      if (!sb.isEmpty()) sb.append(", ");
      sb.append(r.label());
    }
    return sb.toString();
  }

  /** Bits per stored value of a tensor role of a layer (format bits incl. block exponents; 32 for fp32). */
  public double bitsPerValue(String layer, Role role) {
    return lookup(layer, role).map(q -> q.format().bitsPerValue()).orElse(32.0);
  }

  /**
   * Bits per weight, activation and gradient (the error, dY) for a layer that no named rule
   * singles out: the first rule for each role whose patterns include {@code *}.
   */
  public Bits bits() {
    return new Bits(defaultBits(Role.WEIGHT), defaultBits(Role.ACTIVATION), defaultBits(Role.ERROR));
  }

  /** {@link #bits()} for one layer. */
  public Bits bits(String layer) {
    return new Bits(bitsPerValue(layer, Role.WEIGHT), bitsPerValue(layer, Role.ACTIVATION),
        bitsPerValue(layer, Role.ERROR));
  }

  private double defaultBits(Role role) {
    for (Rule r : rules) {
      if (r.roles().contains(role) && r.layers().contains("*")) {
        return r.spec() instanceof Spec.Quantize q ? q.quantizer().format().bitsPerValue() : 32.0;
      }
    }
    return 32.0;
  }

  // ---- binding to a model ----------------------------------------------------------------------

  /**
   * A value of a model that the policy will be asked about: role {@code role} of layer {@code
   * layer}, a tensor of {@code rank} dimensions as the layer quantizes it (0 for multiplier and
   * accumulator, which are not tensors).
   */
  public record Site(String layer, Role role, int rank) {
    public Site {
      Objects.requireNonNull(layer, "layer");
      Objects.requireNonNull(role, "role");
    }
  }

  /**
   * Checks this policy against the values of a model before any training: every tensor's
   * granularity axis must exist in the tensor the deciding rule will quantize, and every rule
   * should match at least one value. Messages start with the rule's {@link #origin}.
   *
   * @param sites every (layer, role) the model will look up, with its tensor rank
   * @param model the model's name, for messages
   * @param strict when true a rule that matches nothing is an error, else a warning
   * @return one warning per rule that matches no value of the model (empty when strict)
   * @throws IllegalArgumentException for a granularity axis outside a matched tensor, and (strict)
   *     for a rule that matches nothing
   */
  public List<String> check(Collection<Site> sites, String model, boolean strict) {
    boolean[] used = new boolean[rules.size()];
    for (Site site : sites) {
      boolean first = true; // the first matching rule decides the value: only its axis must fit
      for (int i = 0; i < rules.size(); i++) {
        Rule r = rules.get(i);
        if (!r.matches(site.layer(), site.role())) continue;
        used[i] = true; // a rule shadowed by an earlier one still matches the model
        if (first && r.spec() instanceof Spec.Quantize q) checkAxis(i, q.quantizer().granularity(), site);
        first = false;
      }
    }
    List<String> warnings = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      if (used[i]) continue;
      String m = origin(i) + ": rule '" + rules.get(i).text().replaceAll("\\s+", " ") + "' matches no layer of model "
          + model + " (" + layersOf(sites, rules.get(i).roles()) + ")";
      if (strict) throw new IllegalArgumentException(m + "; without --strict this is a warning");
      warnings.add(m);
    }
    return warnings;
  }

  private void checkAxis(int rule, Granularity g, Site site) {
    int axis;
    if (g instanceof Granularity.PerChannel c) axis = c.axis();
    else if (g instanceof Granularity.PerBlock b) axis = b.axis();
    else return; // per tensor: any rank
    if (axis < -site.rank() || axis >= site.rank()) {
      throw new IllegalArgumentException(origin(rule) + ": " + Spec.granularityText(g)
          + ": axis out of range for layer " + site.layer() + " " + site.role() + " of rank " + site.rank()
          + " (valid axes: " + -site.rank() + ".." + (site.rank() - 1) + ")");
    }
  }

  /** The layers that have one of {@code roles}, for a message: "layers with weight: fc1, fc2". */
  private static String layersOf(Collection<Site> sites, Set<Role> roles) {
    java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
    for (Site s : sites) if (roles.contains(s.role())) names.add(s.layer());
    if (names.isEmpty()) return "no layer has " + rolesText(roles);
    List<String> l = new ArrayList<>(names);
    String shown = String.join(", ", l.subList(0, Math.min(12, l.size()))) + (l.size() > 12 ? ", ..." : "");
    return "layers with " + rolesText(roles) + ": " + shown;
  }

  // ---- glob -------------------------------------------------------------------------------------

  static void checkPattern(String p) {
    if (p == null || !LAYER.matcher(p).matches()) {
      throw new IllegalArgumentException("bad layer pattern '" + p
          + "'; use a layer name with * (any characters) and ? (one character), no spaces, commas or #");
    }
  }

  /** Glob match: {@code *} any run of characters (dots included), {@code ?} exactly one. */
  static boolean glob(String pattern, String s) {
    int p = 0, i = 0, star = -1, mark = 0;
    while (i < s.length()) {
      if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == s.charAt(i))) {
        p++;
        i++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = i;
      } else if (star >= 0) {
        p = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') p++;
    return p == pattern.length();
  }

  // ---- text form --------------------------------------------------------------------------------

  /**
   * Parses the text form with the default {@link ArithmeticParsers}; {@code defaultName} is used
   * when the text has no {@code policy} line.
   *
   * @throws IllegalArgumentException naming the line number and what is wrong
   */
  public static Policy parse(String text, String defaultName) {
    return parse(text, defaultName, ArithmeticParsers.DEFAULT);
  }

  /** {@link #parse(String, String)} with the given multiplier/accumulator parsers. */
  public static Policy parse(String text, String defaultName, ArithmeticParsers parsers) {
    return parse(text, defaultName, parsers, null);
  }

  /**
   * Parses the text form; {@code source} (a file name, or null) prefixes every message as {@code
   * SOURCE:LINE:} (without one: {@code policy line LINE:}). A leading byte-order mark is skipped.
   */
  static Policy parse(String text, String defaultName, ArithmeticParsers parsers, String source) {
    Objects.requireNonNull(text, "text");
    if (text.startsWith("\uFEFF")) text = text.substring(1); // a BOM would otherwise spoil the first line
    String name = null;
    List<Rule> rules = new ArrayList<>();
    List<String> origins = new ArrayList<>();
    LinkedHashMap<String, String> options = new LinkedHashMap<>();
    String[] lines = text.split("\r?\n|\r", -1);
    for (int n = 0; n < lines.length; n++) {
      String line = lines[n];
      int hash = line.indexOf('#');
      if (hash >= 0) line = line.substring(0, hash);
      line = line.strip();
      if (line.isEmpty()) continue;
      List<String> tok = Arrays.asList(line.split("\\s+"));
      String where = source == null ? "policy line " + (n + 1) : source + ":" + (n + 1);
      try {
        switch (tok.get(0)) {
          case "policy" -> {
            if (tok.size() != 2) throw new IllegalArgumentException("expected 'policy NAME'");
            if (name != null) throw new IllegalArgumentException("second policy name '" + tok.get(1) + "'");
            name = tok.get(1);
            if (!NAME.matcher(name).matches()) {
              throw new IllegalArgumentException("bad policy name '" + name
                  + "'; use letters, digits and . _ + - (starting with a letter or digit)");
            }
          }
          case "option" -> {
            if (tok.size() != 3) throw new IllegalArgumentException("expected 'option KEY VALUE'");
            if (options.containsKey(tok.get(1))) {
              throw new IllegalArgumentException("option '" + tok.get(1) + "' set twice");
            }
            options.put(tok.get(1), Options.check(tok.get(1), tok.get(2)));
          }
          default -> {
            if (tok.size() < 3) {
              throw new IllegalArgumentException("expected 'LAYERS ROLES FORMAT [ROUNDING] [GRANULARITY]', "
                  + "'LAYERS accumulator|multiplier SPEC [PRODUCTS]' or 'LAYERS FUNCTION-ROLES APPROXIMATION', got '"
                  + line + "'");
            }
            rules.add(rule(Arrays.asList(tok.get(0).split(",", -1)), parseRoles(tok.get(1)),
                tok.subList(2, tok.size()), parsers));
            origins.add(where);
          }
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return new Policy(name != null ? name : defaultName, rules, options, origins);
  }

  /**
   * Reads a policy file: JSON when the name ends in {@code .json}, else the text form. The file name
   * (without extension) is the default name.
   *
   * @param jsonParser parses JSON text into maps, lists, strings, numbers, booleans and null
   * @throws IllegalArgumentException naming the file and the problem
   */
  public static Policy read(Path file, Function<String, Object> jsonParser) throws IOException {
    String text = readText(file);
    String fn = file.getFileName().toString();
    String base = fn.contains(".") ? fn.substring(0, fn.lastIndexOf('.')) : fn;
    String defaultName = NAME.matcher(base).matches() ? base : "policy";
    if (!fn.endsWith(".json")) return parse(text, defaultName, ArithmeticParsers.DEFAULT, file.toString());
    try {
      Policy p = fromJson(jsonParser.apply(text), base);
      List<String> origins = new ArrayList<>();
      for (int i = 0; i < p.rules.size(); i++) origins.add(file + ": rules[" + i + "]");
      return new Policy(p.name, p.rules, p.options, origins);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Policy files are small: a larger one is refused before it is read. */
  public static final long MAX_FILE_BYTES = 1 << 20;

  /**
   * The file's text, decoded strictly as UTF-8 (a leading byte-order mark skipped).
   *
   * @throws IllegalArgumentException naming the file when it is too large, binary (a NUL byte) or
   *     not UTF-8, with the offset of the first bad byte
   */
  static String readText(Path file) throws IOException {
    long size = Files.size(file);
    if (size > MAX_FILE_BYTES) {
      throw new IllegalArgumentException(file + ": " + size + " bytes is too large for a policy file (at most "
          + MAX_FILE_BYTES + ")");
    }
    return decode(Files.readAllBytes(file), file.toString());
  }

  /** {@link #readText}'s decoding of a file's bytes; {@code file} names it in messages. */
  static String decode(byte[] bytes, String file) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == 0) {
        throw new IllegalArgumentException(file + ": not a text file (NUL byte at offset " + i + ")");
      }
    }
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length);
    java.nio.charset.CoderResult r = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
        .decode(in, out, true);
    if (r.isError()) {
      int at = in.position();
      throw new IllegalArgumentException(String.format("%s: not UTF-8 text (byte 0x%02X at offset %d); save the "
          + "policy as UTF-8", file, bytes[at] & 0xFF, at));
    }
    String text = out.flip().toString();
    return text.startsWith("\uFEFF") ? text.substring(1) : text;
  }

  /**
   * A preset name ({@link Presets#names()}) or a policy file.
   *
   * @throws IllegalArgumentException when it is neither
   */
  public static Policy resolve(String presetOrFile, Function<String, Object> jsonParser) throws IOException {
    if (Presets.names().contains(presetOrFile)) return Presets.get(presetOrFile);
    if (presetOrFile == null || presetOrFile.isBlank()) {
      throw new IllegalArgumentException("empty policy name; give a preset (" + String.join(", ", Presets.names())
          + ") or a policy file");
    }
    Path p = Path.of(presetOrFile);
    if (Files.isRegularFile(p)) return read(p, jsonParser);
    if (Files.isDirectory(p)) {
      throw new IllegalArgumentException("policy '" + presetOrFile + "' is a directory, not a policy file");
    }
    throw new IllegalArgumentException("unknown policy '" + presetOrFile + "': not a preset ("
        + String.join(", ", Presets.names()) + ") and no such file");
  }

  static Set<Role> parseRoles(String s) {
    EnumSet<Role> roles = EnumSet.noneOf(Role.class);
    for (String r : s.split(",", -1)) {
      Role role = Role.parse(r);
      if (!roles.add(role)) throw new IllegalArgumentException("role " + role + " listed twice");
    }
    return roles;
  }

  private static Rule rule(List<String> layers, Set<Role> roles, List<String> specTokens,
      ArithmeticParsers parsers) {
    for (String p : layers) checkPattern(p);
    Role first = roles.iterator().next();
    if (hasFunctionRole(roles)) return new Rule(layers, roles, functionSpec(roles, specTokens));
    Spec spec;
    if (first.isTensor()) {
      for (Role r : roles) {
        if (!r.isTensor()) {
          throw new IllegalArgumentException("roles " + rolesText(roles) + " mix tensor roles with "
              + "multiplier/accumulator; write them as separate rules");
        }
      }
      spec = Spec.parseTensor(specTokens);
    } else {
      if (roles.size() > 1) {
        throw new IllegalArgumentException("multiplier and accumulator take different specs; "
            + "write them as separate rules");
      }
      if (specTokens.size() > 2) {
        throw new IllegalArgumentException("expected '" + first + " SPEC [PRODUCTS]', got '"
            + String.join(" ", specTokens) + "'");
      }
      Set<Product> products = EnumSet.allOf(Product.class);
      if (specTokens.size() == 2) {
        products = EnumSet.noneOf(Product.class);
        for (String p : specTokens.get(1).split(",", -1)) {
          Product pr = Product.parse(p);
          if (!products.add(pr)) throw new IllegalArgumentException("product " + pr + " listed twice");
        }
      }
      try {
        spec = parsers.parse(first, specTokens.get(0), products);
      } catch (IllegalArgumentException e) {
        if (e.getMessage() != null && e.getMessage().contains(specTokens.get(0))) throw e;
        throw new IllegalArgumentException(first + " '" + specTokens.get(0) + "': " + e.getMessage(), e);
      }
    }
    return new Rule(layers, roles, spec);
  }

  /** The spec of a function-role rule: one {@link Approximation}. */
  private static Spec functionSpec(Set<Role> roles, List<String> specTokens) {
    if (specTokens.size() != 1) {
      throw new IllegalArgumentException("expected '" + rolesText(roles) + " APPROXIMATION' (" + Approximation.VALID
          + "), got '" + String.join(" ", specTokens) + "'");
    }
    return new Spec.Approximate(Approximation.parse(specTokens.get(0)));
  }

  static String rolesText(Set<Role> roles) {
    StringBuilder sb = new StringBuilder();
    for (Role r : roles) {
      if (!sb.isEmpty()) sb.append(',');
      sb.append(r.label());
    }
    return sb.toString();
  }

  /**
   * The canonical text form: {@link #parse} of it gives back an equal policy. Every tensor rule
   * spells out its rounding and granularity. Recorded in every run's summary.
   */
  public String toText() {
    StringBuilder sb = new StringBuilder("policy ").append(name).append('\n');
    for (var e : options.entrySet()) sb.append("option ").append(e.getKey()).append(' ').append(e.getValue()).append('\n');
    int w0 = 1, w1 = 1;
    for (Rule r : rules) {
      w0 = Math.max(w0, String.join(",", r.layers()).length());
      w1 = Math.max(w1, rolesText(r.roles()).length());
    }
    for (Rule r : rules) {
      String l = String.join(",", r.layers()), ro = rolesText(r.roles());
      sb.append(l).append(" ".repeat(w0 - l.length() + 2)).append(ro)
          .append(" ".repeat(w1 - ro.length() + 2)).append(r.spec().text()).append('\n');
    }
    return sb.toString();
  }

  // ---- JSON form --------------------------------------------------------------------------------

  /**
   * The JSON tree of this policy (maps, lists and strings), ready for any JSON writer:
   * {@code {"name": ..., "options": {...}, "rules": [{"layers": "*", "roles": "weight", "format":
   * "int8", "rounding": "nearest-even", "granularity": "per-channel(0)"}, ...]}}. Arithmetic rules
   * carry {@code "format"} (the spec string) and, when not all, {@code "products"}; function-role
   * rules carry {@code "approximation"} instead of {@code "format"}.
   */
  public Map<String, Object> toJsonTree() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("name", name);
    if (!options.isEmpty()) m.put("options", new LinkedHashMap<>(options));
    List<Object> rs = new ArrayList<>();
    for (Rule r : rules) {
      LinkedHashMap<String, Object> j = new LinkedHashMap<>();
      j.put("layers", String.join(",", r.layers()));
      j.put("roles", rolesText(r.roles()));
      switch (r.spec()) {
        case Spec.Keep k -> j.put("format", "fp32");
        case Spec.Quantize q -> {
          j.put("format", q.quantizer().format().name());
          j.put("rounding", q.quantizer().rounding().label());
          j.put("granularity", Spec.granularityText(q.quantizer().granularity()));
        }
        case Spec.Arithmetic a -> {
          j.put("format", a.spec());
          if (!a.allProducts()) j.put("products", Spec.productsText(a.products()));
        }
        case Spec.Approximate a -> j.put("approximation", a.text());
      }
      rs.add(j);
    }
    m.put("rules", rs);
    return m;
  }

  /** Parses JSON text with the given parser (e.g. {@code dev.lowbit.io.Json::parse}). */
  public static Policy parseJson(String text, Function<String, Object> jsonParser, String defaultName) {
    return fromJson(jsonParser.apply(text), defaultName);
  }

  /** {@link #fromJson(Object, String, ArithmeticParsers)} with the default parsers. */
  public static Policy fromJson(Object tree, String defaultName) {
    return fromJson(tree, defaultName, ArithmeticParsers.DEFAULT);
  }

  /**
   * A policy from a parsed JSON tree: an object with {@code rules} (a list of objects with {@code
   * layers} (string or list; comma-separated globs), {@code role} or {@code roles} (string,
   * comma-separated, or list), {@code format}, and optional {@code rounding}, {@code granularity}
   * (tensor roles) or {@code products} (arithmetic roles)), optional {@code name} and {@code
   * options} (object of strings or numbers). A rule of function roles gives {@code approximation}
   * instead of {@code format}.
   *
   * @throws IllegalArgumentException naming the JSON path and the problem
   */
  public static Policy fromJson(Object tree, String defaultName, ArithmeticParsers parsers) {
    if (!(tree instanceof Map<?, ?> root)) throw new IllegalArgumentException("policy JSON: expected an object");
    for (Object k : root.keySet()) {
      if (!List.of("name", "options", "rules", "description").contains(k)) {
        throw new IllegalArgumentException("policy JSON: unknown key '" + k + "'; valid: name, description, options, rules");
      }
    }
    String name = defaultName;
    if (root.get("name") != null) {
      if (!(root.get("name") instanceof String s)) throw new IllegalArgumentException("policy JSON name: expected a string");
      name = s;
    }
    LinkedHashMap<String, String> options = new LinkedHashMap<>();
    if (root.get("options") != null) {
      if (!(root.get("options") instanceof Map<?, ?> om)) {
        throw new IllegalArgumentException("policy JSON options: expected an object");
      }
      for (var e : om.entrySet()) {
        Object v = e.getValue();
        if (!(v instanceof String || v instanceof Number || v instanceof Boolean)) {
          throw new IllegalArgumentException("policy JSON options." + e.getKey() + ": expected a string or number");
        }
        try {
          options.put(String.valueOf(e.getKey()), Options.check(String.valueOf(e.getKey()), String.valueOf(v)));
        } catch (IllegalArgumentException ex) {
          throw new IllegalArgumentException("policy JSON options." + e.getKey() + ": " + ex.getMessage(), ex);
        }
      }
    }
    if (!(root.get("rules") instanceof List<?> list)) {
      throw new IllegalArgumentException("policy JSON: expected \"rules\": [ ... ]");
    }
    List<Rule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String where = "policy JSON rules[" + i + "]";
      try {
        if (!(list.get(i) instanceof Map<?, ?> r)) throw new IllegalArgumentException("expected an object");
        for (Object k : r.keySet()) {
          if (!List.of("layers", "role", "roles", "format", "rounding", "granularity", "products", "approximation")
              .contains(k)) {
            throw new IllegalArgumentException("unknown key '" + k
                + "'; valid: layers, role(s), format, rounding, granularity, products, approximation");
          }
        }
        if (r.containsKey("role") && r.containsKey("roles")) {
          throw new IllegalArgumentException("give either role or roles, not both");
        }
        String layers = joined(r.get("layers"), "layers");
        String roles = joined(r.containsKey("role") ? r.get("role") : r.get("roles"), "role");
        Rule function = functionRuleFromJson(r, layers, parseRoles(roles));
        if (function != null) {
          rules.add(function);
          continue;
        }
        if (!(r.get("format") instanceof String format)) throw new IllegalArgumentException("missing \"format\"");
        Set<Role> rs = parseRoles(roles);
        List<String> tokens = new ArrayList<>();
        tokens.add(format.strip());
        boolean tensor = rs.iterator().next().isTensor();
        for (String k : tensor ? List.of("rounding", "granularity") : List.of("products")) {
          if (r.get(k) != null) tokens.add(joined(r.get(k), k));
        }
        if (!tensor && (r.containsKey("rounding") || r.containsKey("granularity"))) {
          throw new IllegalArgumentException("rounding and granularity apply to tensor roles only");
        }
        if (tensor && r.containsKey("products")) {
          throw new IllegalArgumentException("products apply to multiplier and accumulator rules only");
        }
        // the text form tells rounding from granularity by their spelling; JSON names them
        if (tensor && r.get("rounding") != null) dev.lowbit.format.Rounding.parse(joined(r.get("rounding"), "rounding"));
        if (tensor && r.get("granularity") != null) Spec.parseGranularity(joined(r.get("granularity"), "granularity"));
        rules.add(rule(Arrays.asList(layers.split(",", -1)), rs, tokens, parsers));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return new Policy(name, rules, options);
  }

  /**
   * A JSON rule of function roles ({@code "approximation": "poly:3"}, no other spec key), or null
   * when the rule's roles are not function roles (then {@code approximation} is refused).
   */
  private static Rule functionRuleFromJson(Map<?, ?> r, String layers, Set<Role> roles) {
    if (!hasFunctionRole(roles)) {
      if (r.containsKey("approximation")) {
        throw new IllegalArgumentException("approximation applies to function roles only (" + functionRoleNames() + ")");
      }
      return null;
    }
    for (String k : List.of("format", "rounding", "granularity", "products")) {
      if (r.containsKey(k)) {
        throw new IllegalArgumentException("function roles take \"approximation\", not \"" + k + "\"");
      }
    }
    if (!(r.get("approximation") instanceof String a)) throw new IllegalArgumentException("missing \"approximation\"");
    return rule(Arrays.asList(layers.split(",", -1)), roles, List.of(a.strip()), ArithmeticParsers.DEFAULT);
  }

  private static String joined(Object v, String key) {
    if (v instanceof String s && !s.isBlank()) return s.strip().replace(" ", "");
    if (v instanceof List<?> l && !l.isEmpty()) {
      List<String> parts = new ArrayList<>();
      for (Object o : l) {
        if (!(o instanceof String s)) throw new IllegalArgumentException("\"" + key + "\": expected strings");
        parts.add(s.strip());
      }
      return String.join(",", parts);
    }
    throw new IllegalArgumentException("missing or empty \"" + key + "\"");
  }

  // ---- value ------------------------------------------------------------------------------------

  @Override
  public boolean equals(Object o) {
    return o instanceof Policy p && p.name.equals(name) && p.rules.equals(rules) && p.options.equals(options);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, rules, options);
  }

  @Override
  public String toString() {
    return "Policy[" + name + ", " + rules.size() + " rules]";
  }
}
