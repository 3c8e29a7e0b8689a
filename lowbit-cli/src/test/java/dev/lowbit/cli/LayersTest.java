package dev.lowbit.cli;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.codeUnits;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The layers of ARCHITECTURE.md, checked on the main classes of every module the CLI sees (core,
 * nn, onednn, cli): a lower layer never uses a higher one. A failure names the class and the
 * dependency that breaks the rule.
 */
class LayersTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("dev.lowbit");
  }

  private static String pkg(String name) {
    return "dev.lowbit." + name + "..";
  }

  /** Classes of {@code layer} may use, of lowbit, only their own package and {@code allowed}. */
  private static void usesOnly(String layer, String... allowed) {
    String[] ok = Stream.concat(Stream.of(layer), Arrays.stream(allowed)).map(LayersTest::pkg).toArray(String[]::new);
    noClasses().that().resideInAPackage(pkg(layer))
        .should().dependOnClassesThat(resideInAPackage("dev.lowbit..").and(not(resideInAnyPackage(ok))))
        .because(layer + " may use only " + (allowed.length == 0 ? "nothing else of lowbit" : String.join(", ", allowed)))
        .check(classes);
  }

  /** Classes of {@code layer} never use {@code forbidden}. */
  private static void usesNone(String layer, String... forbidden) {
    noClasses().that().resideInAPackage(pkg(layer))
        .should().dependOnClassesThat().resideInAnyPackage(Arrays.stream(forbidden).map(LayersTest::pkg).toArray(String[]::new))
        .because(layer + " is below " + String.join(", ", forbidden))
        .check(classes);
  }

  @Test
  void theRulesSeeEveryModule() {
    for (String c : new String[] {"dev.lowbit.format.Quantizer", "dev.lowbit.kernel.Kernels", "dev.lowbit.unpack.Unpack", "dev.lowbit.nn.Module",
        "dev.lowbit.train.Trainer", "dev.lowbit.onednn.OneDnnGemm", "dev.lowbit.cli.Main", "dev.lowbit.settings.Settings"}) {
      if (!classes.contain(c)) throw new AssertionError("not imported: " + c);
    }
  }

  @Test
  void formatAndSettingsUseNothingElseOfLowbit() {
    usesOnly("format");
    usesOnly("settings");
  }

  @Test
  void tensorUsesOnlyFormat() {
    usesOnly("tensor", "format");
  }

  @Test
  void kernelUsesOnlyFormatTensorAndSettings() {
    usesOnly("kernel", "format", "tensor", "settings");
  }

  /** The integer executor and its kernels are float-free (NoFloatTest) and stand alone: exec on the integer kernels, those on nothing. */
  @Test
  void theIntegerExecutorUsesOnlyTheIntegerKernels() {
    usesOnly("intonly.exec", "kernel.intonly");
    usesOnly("kernel.intonly");
  }

  /** Layer 4 (IM-Unpack) sits on the kernels; the kernel rule above keeps kernel from using it. */
  @Test
  void unpackUsesOnlyFormatTensorAndKernel() {
    usesOnly("unpack", "format", "tensor", "kernel");
  }

  @Test
  void numericsUsesOnlyFormatTensorAndKernel() {
    usesOnly("numerics", "format", "tensor", "kernel");
  }

  @Test
  void autogradAndNnStayBelowTrainingAndTheCli() {
    usesNone("autograd", "nn", "train", "models", "cli");
    usesNone("nn", "train", "data", "models", "report", "io", "cli");
  }

  /** Settings reach the layers below the CLI as values (Kernels.configure, the backend's provider). */
  @Test
  void systemPropertiesAreReadOnlyByTheCli() {
    noClasses().that().resideInAnyPackage(pkg("format"), pkg("tensor"), pkg("kernel"), pkg("settings"), pkg("numerics"),
            pkg("autograd"), pkg("nn"), pkg("onednn"))
        .should().callMethod(System.class, "getProperty", String.class)
        .orShould().callMethod(System.class, "getProperty", String.class, String.class)
        .orShould().callMethod(System.class, "getProperties")
        .orShould().callMethod(Boolean.class, "getBoolean", String.class)
        .orShould().callMethod(Integer.class, "getInteger", String.class)
        .orShould().callMethod(Integer.class, "getInteger", String.class, int.class)
        .orShould().callMethod(Long.class, "getLong", String.class)
        .orShould().callMethod(Long.class, "getLong", String.class, long.class)
        .because("only lowbit-cli reads -Dlowbit.* properties; the layers below receive a Settings value")
        .check(classes);
  }

  @Test
  void onlyTheCliUsesTheCli() {
    noClasses().that().resideOutsideOfPackage(pkg("cli"))
        .should().dependOnClassesThat().resideInAPackage(pkg("cli"))
        .check(classes);
  }

  @Test
  void oneDnnIsUsedOnlyThroughItsProviderAndByTheCli() {
    noClasses().that().resideOutsideOfPackages(pkg("onednn"), pkg("cli"))
        .should().dependOnClassesThat().resideInAPackage(pkg("onednn"))
        .because("lowbit-core and lowbit-nn reach a native backend only through GemmBackend's provider")
        .check(classes);
  }

  /** The most parameters a method or constructor of nn and numerics takes (STYLE.md: operand views are records). */
  static final int MAX_PARAMETERS = 8;

  /**
   * No method or constructor (canonical record constructors included, as compiled) of nn or
   * numerics takes more than {@link #MAX_PARAMETERS} parameters; synthetic ones (lambdas) are the
   * compiler's, not ours. A failure lists every offender with its count.
   */
  @Test
  void nnAndNumericsTakeAtMostEightParameters() {
    codeUnits().that().areDeclaredInClassesThat().resideInAnyPackage(pkg("nn"), pkg("numerics"))
        .and(DescribedPredicate.describe("are not synthetic", (JavaCodeUnit u) -> !u.getModifiers().contains(JavaModifier.SYNTHETIC)))
        .should(takeAtMost(MAX_PARAMETERS))
        .because("a long parameter list hides an operand view or a value that should be a record")
        .check(classes);
  }

  static ArchCondition<JavaCodeUnit> takeAtMost(int most) {
    return new ArchCondition<>("take at most " + most + " parameters") {
      @Override
      public void check(JavaCodeUnit u, ConditionEvents events) {
        int n = u.getRawParameterTypes().size();
        if (n > most) events.add(SimpleConditionEvent.violated(u, u.getFullName() + " takes " + n + " parameters"));
      }
    };
  }
}
