package dev.lowbit.cli;

import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Normalization;
import dev.lowbit.numerics.Policy;
import dev.lowbit.train.Plans;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit plan}: where each product of a model runs under a policy, and why, without
 * training — the plan list a run records in its {@code summary.json} — and the estimated energy of
 * its products ({@link Plans#energy}).
 */
@Command(
    name = "plan",
    description = {
        "Show where each product of a model runs under a policy, and why, without training.",
        "One line per (layer, product): the operands' and result's formats, the multiplier and accumulator,"
            + " the engine that executes it and the reason. A training run records the same list in"
            + " summary.json ('plan'). The last line is the estimated arithmetic energy per inference and per"
            + " training step at --batch (op counts × a 45 nm table, summary.json's 'energy_estimate')."},
    mixinStandardHelpOptions = true)
public final class PlanCommand implements Callable<Integer> {

  @Mixin BackendOption backend;

  @Option(names = "--model", defaultValue = "mlp", description = "mlp, cnn, resnet or vit (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--policy", defaultValue = "fp32",
      description = "a preset name or a policy file (.policy or .json) (default: ${DEFAULT-VALUE})")
  String policy;

  @Option(names = "--batch", defaultValue = "128", description = "batch size of the pass that makes the plans (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--json", description = "print the plan as a JSON list, as summary.json holds it")
  boolean json;

  @Option(names = "--strict", description = "a policy rule that matches no layer of the model is an error (default: a warning)")
  boolean strict;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Checks.model(model);
    Checks.positive("--batch", batch);
    Policy pol = Policy.resolve(policy, Json::parse);
    Checks.policiesFit(List.of(pol), model, strict, spec.commandLine().getErr());
    backend.apply();
    Module m = Models.create(model, 0, pol.methods().l1Normalization() ? Normalization.L1 : Normalization.L2);
    List<Map<String, Object>> rows = Plans.of(m, pol, batch, Models.inputShape(model), 0);
    PrintWriter out = Main.out(spec);
    if (json) {
      out.println(Json.write(rows));
    } else {
      out.println("plan of policy " + pol.name() + " on " + model + " (GEMM backend " + Kernels.gemm().name()
          + "), " + rows.size() + " products:");
      out.print(table(rows));
      out.println(Plans.energy(m, pol, batch, Models.inputShape(model), 0).line());
    }
    out.flush();
    return 0;
  }

  /** The rows as an aligned table: layer, product, operands, result, arithmetic, engine, then the reason. */
  static String table(List<Map<String, Object>> rows) {
    String[] head = {"layer", "product", "operands", "result", "arithmetic", "engine"};
    String[][] cells = new String[rows.size()][];
    int[] w = new int[head.length];
    for (int i = 0; i < head.length; i++) w[i] = head[i].length();
    for (int r = 0; r < rows.size(); r++) {
      Map<String, Object> m = rows.get(r);
      String arith = m.get("multiplier") + ", " + m.get("accumulator");
      cells[r] = new String[] {str(m, "layer"), str(m, "product"), m.get("a") + " × " + m.get("b"), str(m, "result"),
          "exact, default".equals(arith) ? "-" : arith, str(m, "engine")};
      if (!"plain".equals(m.get("method"))) cells[r][5] += " [" + m.get("method") + "]";
      for (int i = 0; i < head.length; i++) w[i] = Math.max(w[i], cells[r][i].length());
    }
    StringBuilder sb = new StringBuilder();
    row(sb, head, w, "reason");
    for (int r = 0; r < rows.size(); r++) row(sb, cells[r], w, str(rows.get(r), "reason"));
    return sb.toString();
  }

  private static void row(StringBuilder sb, String[] cells, int[] w, String reason) {
    for (int i = 0; i < cells.length; i++) sb.append(cells[i]).append(" ".repeat(w[i] - cells[i].length() + 2));
    sb.append(reason).append('\n');
  }

  private static String str(Map<String, Object> m, String key) {
    return String.valueOf(m.get(key));
  }
}
