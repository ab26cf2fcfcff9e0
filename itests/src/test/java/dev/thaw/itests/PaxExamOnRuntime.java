package dev.thaw.itests;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.AssumptionViolatedException;
import org.junit.Test;
import org.junit.runner.Description;
import org.junit.runner.Runner;
import org.junit.runner.manipulation.Filter;
import org.junit.runner.manipulation.Filterable;
import org.junit.runner.manipulation.NoTestsRemainException;
import org.junit.runner.manipulation.Sortable;
import org.junit.runner.manipulation.Sorter;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunNotifier;
import org.junit.runners.model.InitializationError;
import org.ops4j.pax.exam.junit.PaxExam;

/**
 * {@link PaxExam} for test classes that run guests, on this run's {@link ItestRuntime}: where it can run
 * guests it is PaxExam itself; where it cannot (KVM without a usable /dev/kvm), it reports every test as
 * skipped (an assumption failure), or as failed when {@code THAW_REQUIRE_KVM=1}, and starts no framework.
 *
 * <p>The decision must be made here, in the driver: a JUnit {@code Assume} inside the framework is lost on
 * the way back (Pax Exam 4.14's JUnit probe invoker reports only failures, so a test that assumed false
 * passes), and Pax Exam's runner does not run {@code @BeforeClass} in the driver.
 */
public final class PaxExamOnRuntime extends Runner implements Filterable, Sortable {

    private final Class<?> testClass;
    private final String unavailable;
    private final PaxExam delegate;
    private final List<Description> tests = new ArrayList<>();

    public PaxExamOnRuntime(Class<?> testClass) throws InitializationError {
        this.testClass = testClass;
        this.unavailable = ItestRuntime.unavailableBecause();
        if (unavailable == null) {
            delegate = new PaxExam(testClass);
        } else {
            delegate = null;
            Arrays.stream(testClass.getMethods())
                    .filter(m -> m.isAnnotationPresent(Test.class) && !Modifier.isStatic(m.getModifiers()))
                    .map(Method::getName)
                    .sorted()
                    .forEach(name -> tests.add(Description.createTestDescription(testClass, name)));
        }
    }

    @Override
    public Description getDescription() {
        if (delegate != null) {
            return delegate.getDescription();
        }
        Description suite = Description.createSuiteDescription(testClass);
        tests.forEach(suite::addChild);
        return suite;
    }

    @Override
    public void run(RunNotifier notifier) {
        if (delegate != null) {
            delegate.run(notifier);
            return;
        }
        for (Description test : tests) {
            notifier.fireTestStarted(test);
            if (ItestRuntime.required()) {
                notifier.fireTestFailure(new Failure(test, new AssertionError(
                        unavailable + ", and " + ItestRuntime.REQUIRE_ENV + "=1 says KVM tests must run")));
            } else {
                notifier.fireTestAssumptionFailed(new Failure(test, new AssumptionViolatedException(
                        unavailable + ": KVM test skipped (set " + ItestRuntime.REQUIRE_ENV + "=1 to fail instead)")));
            }
            notifier.fireTestFinished(test);
        }
    }

    @Override
    public void filter(Filter filter) throws NoTestsRemainException {
        if (delegate != null) {
            delegate.filter(filter);
            return;
        }
        tests.removeIf(t -> !filter.shouldRun(t));
        if (tests.isEmpty()) {
            throw new NoTestsRemainException();
        }
    }

    @Override
    public void sort(Sorter sorter) {
        if (delegate != null) {
            delegate.sort(sorter);
        } else {
            tests.sort(sorter);
        }
    }
}
