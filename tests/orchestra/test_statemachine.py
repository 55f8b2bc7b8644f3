"""A hypothesis state machine: players join, leave, crash and change level between runs.

Whatever happens, the journal must show that levels never overlapped, that every pair
sent was resolved exactly once, that every healthy due player got each trigger of a run
and acked it, and that only crashed players were ever missed.
"""

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from harness.orchestra import Ensemble, EventKind, PlayerConfig, check_journal, is_due

MAX_PLAYERS = 5
ACK_TIMEOUT_S = 2.0  # generous for healthy players on a loaded machine; crashed ones cost this once


class OrchestraMachine(RuleBasedStateMachine):
    mode = "thread"

    @initialize()
    def start(self):
        self.ens = Ensemble(heartbeat_s=0.1, liveness=3).start()
        self.healthy: dict[str, PlayerConfig] = {}
        self.crashed: set[str] = set()
        self.made = 0

    def teardown(self):
        ens = getattr(self, "ens", None)
        if ens is None:
            return
        ens.close()
        unexpected = [e for e in ens.take_player_errors() if e.player not in self.crashed]
        assert not unexpected, unexpected

    def _pick(self, data):
        return data.draw(st.sampled_from(sorted(self.healthy)), label="player")

    @precondition(lambda self: len(self.healthy) < MAX_PLAYERS)
    @rule(priority=st.integers(-1, 2), divisor=st.integers(1, 3), work_ms=st.sampled_from([0, 0, 2]))
    def add_player(self, priority, divisor, work_ms):
        self.made += 1
        name = f"p{self.made}"
        kind, params = ("sleep", {"seconds": work_ms / 1000}) if work_ms else ("noop", {})
        spec = PlayerConfig(name, kind, params, priority=priority, divisor=divisor)
        self.ens.add_player(spec, mode=self.mode, timeout_s=30)
        self.healthy[name] = spec

    @precondition(lambda self: self.healthy)
    @rule(data=st.data())
    def remove_player(self, data):
        name = self._pick(data)
        self.ens.stop_player(name)
        del self.healthy[name]
        assert self.ens.director.registry.wait_for(
            lambda players: not any(p.name == name and p.connected for p in players), 10), f"{name} did not leave"

    @precondition(lambda self: self.healthy)
    @rule(data=st.data())
    def crash_player(self, data):
        name = self._pick(data)
        self.ens.kill_player(name)
        del self.healthy[name]
        self.crashed.add(name)

    @precondition(lambda self: self.healthy)
    @rule(data=st.data(), priority=st.integers(-1, 2))
    def set_priority(self, data, priority):
        name = self._pick(data)
        self.ens.director.set_priority(name, priority)
        spec = self.healthy[name]
        self.healthy[name] = PlayerConfig(spec.name, spec.kind, spec.params, priority=priority, divisor=spec.divisor)

    @precondition(lambda self: any(s.priority >= 0 for s in self.healthy.values()))
    @rule(count=st.integers(1, 6), policy=st.sampled_from(["skip", "resend"]))
    def run_triggers(self, count, policy):
        journal = self.ens.journal
        start = len(journal)
        result = self.ens.run(count=count, ack_timeout_s=ACK_TIMEOUT_S, policy=policy,
                              resends=1 if policy == "resend" else 0, check=False)
        assert result.state.value == "completed" and result.last_trigger == count, result
        events = journal.events[start:]
        sent = {(e.trigger, e.player) for e in events if e.kind is EventKind.TRIGGER_SENT}
        due = {(n, s.name) for s in self.healthy.values() if s.priority >= 0
               for n in range(1, count + 1) if is_due(n, s.divisor)}
        assert due <= sent, f"due but never sent: {sorted(due - sent)}"
        assert {p for _, p in sent - due} <= self.crashed, f"sent to players not due: {sorted(sent - due)}"
        missed = {(e.trigger, e.player) for e in events if e.kind is EventKind.MISSED}
        assert {p for _, p in missed} <= self.crashed, f"healthy players missed: {sorted(missed)}"
        acked = {(e.trigger, e.player) for e in events if e.kind is EventKind.ACK}
        assert due <= acked

    @invariant()
    def journal_is_consistent(self):
        if hasattr(self, "ens"):
            check_journal(self.ens.journal)


class ProcessOrchestraMachine(OrchestraMachine):
    mode = "process"


TestOrchestraWithThreadPlayers = OrchestraMachine.TestCase
TestOrchestraWithThreadPlayers.settings = settings(max_examples=15, stateful_step_count=12, deadline=None)

TestOrchestraWithProcessPlayers = ProcessOrchestraMachine.TestCase
TestOrchestraWithProcessPlayers.settings = settings(max_examples=3, stateful_step_count=10, deadline=None)
