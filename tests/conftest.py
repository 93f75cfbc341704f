"""Shared test set-up: simulated CPU devices, fresh PRNG keys, PyTorch on 1 thread."""

from __future__ import annotations

import os
import sys

# Python's bytecode cache on, for the workers and every process a test starts (launcher
# ranks, CLI runs, the corpus runners): with PYTHONDONTWRITEBYTECODE set, each of them
# compiled fnnet's sources again on import.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# Multi-device tests run on simulated CPU devices; this must happen before JAX starts.
# XLA's classic CPU fusion emitters compile the suite's thousands of small programs in
# much less time than its newer MLIR emitters, with the same semantics (the suite's time
# is mostly compiling: benchmarks/RESULTS.md, "Test suite").
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8 "
                                   "--xla_cpu_use_fusion_emitters=false")
# PyTorch (and the processes tests start) on one thread, as the torch fixture sets it.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Most of the suite's programs are small and run a handful of times, so XLA's
# optimisation passes cost more than they save: JAX's documented switch for that case,
# here and in the processes tests start. The tests in OPTIMIZED (below) run long
# compiled programs and compile as users' programs do.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import itertools  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

import jax  # noqa: E402
import pytest  # noqa: E402

_SEEDS = itertools.count()


@pytest.fixture(autouse=True, scope="session")
def seeded_generator():
    """fnnet.torch's default generator seeded with 0 in each worker: it is seeded from
    the operating system otherwise, as PyTorch's is, and a test that draws without
    seeding must draw the same numbers from run to run."""
    from fnnet.torch import _random

    _random.state.seed(0)


SHARED_MNIST = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


#: The variable naming JAX's persistent compilation cache; pytest_configure sets it so the
#: xdist workers and every process a test starts read it when they import JAX.
CACHE_VARIABLE = "JAX_COMPILATION_CACHE_DIR"


def pytest_configure(config):
    """One JAX compilation cache for the whole run, on disk, shared by the xdist workers
    and the processes tests start: a program one of them compiled (the same step in two
    test files, a resumed training run, a script's second rank) is read back instead of
    compiled again. A cache the user names in ``JAX_COMPILATION_CACHE_DIR`` is used and
    kept; otherwise the run makes a temporary one and removes it at the end."""
    if CACHE_VARIABLE not in os.environ:  # the controller (or plain pytest) makes it
        config._fnnet_jax_cache = tempfile.mkdtemp(prefix="fnnet-tests-jax-cache-")
        os.environ[CACHE_VARIABLE] = config._fnnet_jax_cache
    # Every program is worth caching: the suite's are small and compile in milliseconds.
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
    jax.config.update("jax_compilation_cache_dir", os.environ[CACHE_VARIABLE])
    jax.config.update("jax_persistent_cache_min_compile_time_secs",
                      float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes",
                      int(os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"]))


def pytest_unconfigure(config):
    made = getattr(config, "_fnnet_jax_cache", None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        del os.environ[CACHE_VARIABLE]


@pytest.fixture
def key():
    """A fresh PRNG key for each test (deterministic across runs)."""
    return jax.random.key(next(_SEEDS))


@pytest.fixture(scope="session")
def torch():
    """PyTorch on the CPU, 1 thread; skips the test where PyTorch is not installed.

    One thread: the suite runs a worker per core (``pytest -n 2``), and a second thread
    per worker only contends with the other worker (PyTorch's ResNet-18 steps run
    several times slower so).
    """
    torch = pytest.importorskip("torch", reason="PyTorch is needed for parity tests "
                                "(pip install torch==2.13.0)")
    torch.set_num_threads(1)
    return torch


#: Test modules of layer arithmetic that run twice: with the kernels of this platform
#: (the CPU forms here) and with the portable forms a GPU or TPU compiles.
KERNEL_MODULES = {"test_functional", "test_nn"}


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__ in KERNEL_MODULES:
        # The portable run is left to the full suite: the edit-test loop checks the math once.
        metafunc.parametrize(
            "kernels", ["platform", pytest.param("portable", marks=pytest.mark.slow)],
            indirect=True)


@pytest.fixture(autouse=True)
def kernels(request):
    """The kernel choice a test traces under: ``"platform"``, or ``"portable"`` for the
    second run of the modules in :data:`KERNEL_MODULES`."""
    from fnnet.nn.functional import kernels as layer

    choice = getattr(request, "param", "platform")
    with layer.use(choice):
        yield choice


@pytest.fixture(autouse=True)
def recorder(request):
    """A fresh fnnet.torch recorder (tape, compile cache, statistics) for each test of
    the shim (``test_shim_*``, ``test_torch_*``); set its options through
    ``recorder.options`` (``recorder.options.eager_after = 3``). None elsewhere."""
    if not request.module.__name__.rpartition(".")[2].startswith(("test_shim", "test_torch")):
        yield None
        return
    from fnnet.torch import _compiler

    with _compiler.fresh() as fresh:
        yield fresh


#: A JAX user context set in the tests marked ``optimized``: JAX keys its in-memory caches
#: of traced and compiled programs on it, as it does not on the optimisation flag itself.
_optimized_programs = jax.make_user_context(default_value=False)


@pytest.fixture(autouse=True)
def xla_optimizations(request, monkeypatch):
    """XLA's optimisations on for the tests marked ``optimized`` (:data:`OPTIMIZED`) and
    the processes they start; off (``JAX_DISABLE_MOST_OPTIMIZATIONS``) for the rest.

    Their programs are kept apart in JAX's in-memory caches by a user context: a function
    jitted in an optimized test would otherwise run its optimised program in later tests
    (and the other way round), where a test comparing it bit for bit with a program
    compiled without optimisations (the initialisers' draws under jit and eagerly) sees
    one-ulp differences from fused multiply-adds. The persistent cache's keys hold the
    flag itself."""
    if request.node.get_closest_marker("optimized") is None:
        yield
        return
    was = jax.config.values["jax_disable_most_optimizations"]
    monkeypatch.setenv("JAX_DISABLE_MOST_OPTIMIZATIONS", "0")
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        with _optimized_programs(True):
            yield
    finally:
        jax.config.update("jax_disable_most_optimizations", was)


@pytest.fixture(scope="session")
def mnist_dir():
    """The real MNIST test set (IDX files), or a skip naming where it is expected."""
    path = pathlib.Path(os.environ.get("FNNET_MNIST_DIR", SHARED_MNIST))
    if not (path / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST test set not found in {path} (set FNNET_MNIST_DIR)")
    return path


#: Modules that take longest (every module of 5 s or more in a ``--durations=0`` run of
#: the suite), longest first. ``pytest -n 2`` hands out whole files (``--dist loadfile``,
#: set below, so a module's fixtures run once) in collection order, the rest of the files
#: alphabetically after these; starting with the long ones leaves only short files for
#: the end, so neither worker idles while the other finishes a long module.
LONGEST_FIRST = (
    "test_torch_programs", "test_shim_distributed_multiprocess", "test_resnet",
    "test_shim_inplace_autograd", "test_shim_surface_more", "test_cli", "test_compare",
    "test_shim_vision_loops", "test_losses", "test_checkpoint", "test_fast_conv",
    "test_examples", "test_shim_surface_layers", "test_functional",
    "test_shim_batch_patterns", "test_nn", "test_real_mnist", "test_fit_edges",
    "test_transforms", "test_shim_api", "test_shim_more_surface",
    "test_parallel_multiprocess", "test_shim_distributed", "test_shim_user_programs",
    "test_torchvision_shim", "test_parallel", "test_shim_distributions",
    "test_shim_profiler", "test_as_torch", "test_checkpoint_damage",
    "test_shim_transformer", "test_shim_multiprocessing", "test_shim_surface_optim",
    "test_nnx", "test_shim_slow_loops", "test_shim_sequences_tables", "test_torch_fft",
    "test_interop", "test_shim_parity", "test_shim_manual", "test_disk_cache",
    "test_shim_added_names", "test_train", "test_docs_snippets", "test_shim_x64",
    "test_shim_random_draws", "test_shim_loops", "test_shim_eager", "test_layering",
    "test_shim_ops", "test_shim_autocast", "test_optim", "test_shim_manual_save",
    "test_augment", "test_bad_input",
)

#: Tests outside the edit-test loop (``pytest -m "not slow"``), by module, by
#: ``module::test`` (every parametrisation) or by ``module::test[id]`` (that id, alone
#: or crossed with others: ``[conv_gemm]`` takes ``[conv_gemm-jvp]``): each trains,
#: compiles a large model, starts processes, or is the exhaustive part of a family whose
#: every case compiles (the loop keeps a few cases), so the loop fits in 2 minutes on 2
#: cores. They still run in the README's ``pytest -n 2``. A test named here that its
#: module lacks is an error, so a renamed test cannot leave the list silently.
SLOW: tuple[str, ...] = (
    "test_shim_inplace_autograd::test_inplace_programs_run_op_by_op_as_compiled",
    "test_shim_loops::test_a_loop_that_settles_after_changing_shapes_compiles_again",
    "test_cli::test_a_run_refused_for_its_checkpoint_folder_keeps_the_earlier_event_files",
    "test_cli::test_output_read_by_a_pipe_closed_early_ends_quietly",
    "test_as_torch::test_exit_statuses_and_tracebacks_are_pythons",
    "test_as_torch::test_a_module_runs_with_dash_m",
    "test_shim_vision_loops::test_add_figure_writes_the_image_pytorch_writes",
    "test_step_cache::test_a_different_learning_rate_compiles_its_own_step",
    "test_shim_vision_loops::test_orthogonal_parametrization_trains_as_pytorch",
    "test_shim_api::test_tied_weights_param_groups_and_no_zero_grad",
    "test_shim_distributions::test_categorical_log_prob_broadcasts_value_and_batch_as_pytorch",
    "test_checkpoint::test_a_reader_lists_again_when_a_writer_removes_a_checkpoint",
    "test_fuzz_readers::test_idx_gzip_fuzz",
    "test_shim_multiprocessing",
    "test_shim_transformer::test_mismatched_masks_and_a_slow_encoder_warn_as_pytorch",
    "test_shim_batch_patterns::test_a_replay_memorys_batches_joined_with_cat_compile_once_per_shape",
    "test_shim_user_programs::test_recurrent_layers_on_packed_sequences_match_pytorch[LSTM-2-True-True-0]",
    "test_shim_user_programs::test_recurrent_layers_on_packed_sequences_match_pytorch[LSTM-2-True-False-3]",
    "test_shim_from_scratch::test_count_in_place_and_a_view_assigned_to_itself_as_pytorch",
    "test_accelerator_script::test_quick_run_without_accelerator_writes_a_table",
    "test_augment::test_compose_splits_the_key",
    "test_bad_input::test_fit_takes_numpy_integers_as_counts",
    "test_bad_input::test_nan_in_a_batch_names_the_step_and_the_parameter",
    "test_bad_input_loads",
    "test_checkpoint::test_fit_checkpoint_arguments",
    "test_checkpoint::test_fit_resumes_mid_epoch_bit_for_bit",
    "test_checkpoint::test_fit_with_callable_data_resumes",
    "test_checkpoint::test_injected_hyperparameters_survive",
    "test_checkpoint::test_sigkilled_training_resumes_bit_for_bit",
    "test_checkpoint_damage",
    "test_cli::test_compare_runs_pytorch_on_one_thread_by_default",
    "test_cli::test_console_script_exit_status",
    "test_cli::test_folder_with_only_mnists_test_files_trains_on_its_split",
    "test_cli::test_missing_mnist_lists_the_files_without_absl_output",
    "test_cli::test_nonfinite_loss_exits_1_and_skip_trains_on",
    "test_clip::test_fit_clips_as_the_chained_transformation_does",
    "test_compare::test_cli_compare_prints_the_table_and_writes_the_png",
    "test_compare::test_dropout_runs_are_reported_as_not_comparable_step_by_step",
    "test_compare::test_tables_show_losses_accuracy_speed_and_differences",
    "test_compare::test_versions_agree_from_the_same_weights",
    "test_determinism",
    "test_examples::test_fnnet_version_script_on_real_data_and_its_errors",
    "test_examples::test_versions_run_as_scripts",
    "test_fast_conv::test_conv2d_routes_to_cpu_kernels_with_bias_and_unbatched_input",
    "test_fast_conv::test_default_plan_under_jit_and_vmap",
    "test_fast_conv::test_every_formulation_matches_plain_convolution",
    "test_fast_conv::test_lenet_gradients_with_the_cpu_kernels_equal_the_portable_forms",
    "test_fast_conv::test_max_pool_matches_reduce_window_with_ties",
    "test_fit_edges",
    "test_interop::test_optimizer_state_round_trips_and_resumes_like_torch",
    "test_interop::test_injected_hyperparameters_follow_torchs_param_group",
    "test_kernel_memory",
    "test_losses::test_class_losses_compile_one_program_per_shape_with_op_by_op_values",
    "test_nnx",
    "test_optim::test_documented_optax_differences",
    "test_parallel::test_data_parallel_training_equals_single_device",
    "test_parallel::test_dropout_with_axis_name_keeps_its_rows_of_the_global_mask",
    "test_parallel::test_fit_with_devices_equals_fit_on_one_device",
    "test_parallel::test_fnnet_layers_and_losses_in_a_classic_user_pmap",
    "test_parallel::test_pmap_example_on_real_mnist",
    "test_parallel::test_sync_batchnorm_under_pmap_equals_torch_on_the_global_batch",
    "test_parallel::test_unsynchronised_running_statistics_are_averaged",
    "test_progress",
    "test_resnet::test_imagenet_stem_logits_match_torch",
    "test_resnet::test_initialisation_is_torchvisions",
    "test_resnet::test_logits_match_torch_from_loaded_weights",
    "test_resnet::test_zero_init_residual_zeroes_the_last_bn_of_each_block",
    "test_shim_api::test_a_loop_that_does_not_read_its_loss_every_step_runs_one_program",
    "test_shim_api::test_a_loop_that_reads_its_loss_runs_each_step_as_two_programs",
    "test_shim_api::test_state_dict_after_training_equals_the_fnnet_tree",
    "test_shim_api::test_a_split_step_with_dropout_and_two_backward_passes_agrees_with_one_program",
    "test_shim_api::test_members_by_dotted_path_as_torch",
    "test_shim_batch_patterns::test_pattern_compiles_once_and_matches_torch",
    "test_shim_batch_patterns::test_one_hot_names_of_changing_lengths_compile_once_per_length",
    "test_shim_data_parallel",
    "test_shim_distributed::test_ddp_in_one_process_is_the_module",
    "test_shim_distributed::test_fnnet_torchrun_is_the_launcher",
    "test_shim_distributed::test_launcher_runs_a_module_with_its_arguments",
    "test_shim_distributed::test_launcher_sets_torchruns_environment_and_passes_output_on",
    "test_shim_distributed::test_launcher_ignores_a_traceback_a_rank_survived",
    "test_shim_distributed::test_launcher_names_a_killed_rank_before_the_peer_that_raised_after_it",
    "test_shim_distributed::test_launcher_names_the_rank_that_raised_though_a_peer_exits_first",
    "test_shim_distributed::test_launcher_stops_everyone_when_one_fails_and_names_it",
    "test_shim_distributed::test_launcher_timeout_stops_a_hung_run",
    "test_shim_eager::test_loop_changing_structure_falls_back_and_reuses_its_windows",
    "test_shim_eager::test_a_step_wired_anew_every_time_falls_back_after_a_few_steps",
    "test_shim_from_scratch::test_histc_and_histogram_as_pytorch",
    "test_shim_lbfgs::test_optimizes_an_input_image_as_style_transfer_does",
    "test_shim_manual_save::test_the_save_the_whole_model_tutorial_runs_as_under_pytorch",
    "test_shim_manual_save::test_every_layer_is_saved_whole_and_loaded_back_the_same",
    "test_shim_manual_save::test_a_model_pytorch_pickled_loads_whole_with_weights_only_false",
    "test_shim_more_surface",
    "test_shim_parity::test_a_mlp_adam",
    "test_shim_parity::test_e_conv_momentum",
    "test_shim_parity::test_f_lenet",
    "test_shim_parity::test_g_batchnorm_dropout_train_eval",
    "test_shim_serialization::test_resumed_training_matches_uninterrupted_training",
    "test_shim_slow_loops::test_a_long_counting_loop_runs_as_windows_and_compiles_no_whole_program",
    "test_shim_surface::test_float64_is_kept_with_jax_x64",
    "test_shim_surface_layers",
    "test_shim_surface_more::test_pure_losses_and_layers_jit_and_check_their_arguments",
    "test_shim_surface_optim",
    "test_tensorboard",
    "test_torch_coverage",
    "test_torchvision_shim::test_resnet18_state_dict_is_torchvisions_and_fnnet_models",
    "test_torchvision_shim::test_pretrained_weights_come_from_torchvisions_cache",
    "test_train::test_fit_reaches_95_percent_on_digits",
    "test_train::test_jitted_and_plain_steps_agree",
    "test_train::test_plot_history_writes_a_png_and_refuses_an_empty_history",
    "test_train::test_steps_per_call_equals_single_steps",
    "test_train::test_wrong_input_shape_names_the_layer",
    # the longest tests of the edit-test loop (about a second each), 2026-12-06
    "test_shim_eager::test_long_region_backward_gets_a_window_of_its_own",
    "test_shim_vision_loops::test_spectral_norm_parametrization_trains_as_pytorch[convT]",
    "test_checkpoint::test_save_and_restore_are_bit_exact",
    "test_shim_from_scratch::test_a_seeded_generator_replays_its_draws_as_pytorch",
    "test_fast_conv::test_max_pool_tangent_barrier_transposes_to_the_same_values",
    "test_transforms::test_transform_matches_portable_kernels[batchnorm2d_train-jvp]",
    "test_shim_manual::test_op_by_op_fallback_matches_pytorch[isub]",
    "test_shim_parity::test_b_mlp_relu_sgd",
    "test_state_dict::test_loads_torch_tensors_and_computes_what_torch_computes",
    "test_shim_manual_save::test_a_checkpoint_with_pytorchs_whole_optimizer_keeps_its_state",
    "test_shim_vision_loops::test_orthogonal_parametrization_trains_as_pytorch[None]",
    "test_examples::test_by_hand_gradient_matches_jax_grad_and_fits_the_line",
    "test_shim_slow_loops::test_sampling_compiles_one_program_per_context_length",
    "test_shim_ops::test_pad_crops_checks_and_names_its_backward_as_torch",
    "test_shim_surface::test_grad_fn_keeps_its_name_after_the_step_and_prints_as_torchs",
    "test_shim_distributions::test_multivariate_normal_as_pytorch[covariance_matrix]",
    "test_shim_surface_more::test_inside_a_compiled_training_step",
    "test_shim_slow_loops::test_actions_read_while_an_episode_keeps_its_graph_compile_once",
    "test_shim_user_programs::test_recurrent_layers_on_packed_sequences_match_pytorch[GRU-1-False-False-0]",
    "test_shim_func::test_the_transforms_give_pytorchs_values",
    "test_shim_vision_loops::test_compiled_module_is_pytorchs_optimized_module",
    "test_shim_func::test_per_sample_gradients_as_the_tutorial_computes_them",
    "test_shim_slow_loops::test_sampled_actions_keep_their_draws_in_the_episodes_backward",
    "test_shim_api::test_loss_read_before_backward",
    "test_functional::test_batch_norm_axis_name_under_shard_map[platform]",
    "test_shim_batch_patterns::test_int_bound_slices_are_pytorchs_for_every_bound",
    "test_train::test_a_step_names_a_state_that_is_not_one_or_was_donated",
    "test_fast_conv::test_max_pool_gradient_goes_to_first_maximum_like_torch",
    "test_transforms::test_transform_matches_portable_kernels[maxpool_tiled-jvp]",
    "test_transforms::test_transform_matches_portable_kernels[cross_entropy-jvp]",
    "test_parallel::test_eval_steps_equal_single_device",
    "test_shim_transformer::test_an_encoder_training_loop_compiles_once",
    "test_shim_vision_loops::test_averaged_model_follows_pytorch[swa]",
    "test_shim_vision_loops::test_spatial_transformer_from_the_identity_follows_pytorch",
    "test_shim_gradcheck::test_modules_and_several_inputs_pass",
    "test_shim_api::test_a_short_loop_with_batchnorm_compiles_its_whole_step_alone",
    "test_shim_profiler::test_traces_are_handed_over_at_pytorchs_steps_with_the_windows_regions[kwargs0-10]",
    "test_shim_parity::test_c_flatten_sgd",
    "test_shim_manual::test_op_by_op_fallback_of_a_loop_reading_its_loss_first",
    "test_shim_distributions::test_concentration_draws_and_their_gradients",
    "test_transforms::test_transform_matches_portable_kernels[activations]",
    "test_transforms::test_transform_matches_portable_kernels[adaptive_avgpool]",
    "test_transforms::test_transform_matches_portable_kernels[avgpool]",
    "test_transforms::test_transform_matches_portable_kernels[batchnorm1d_train]",
    "test_transforms::test_transform_matches_portable_kernels[batchnorm2d_eval]",
    "test_transforms::test_transform_matches_portable_kernels[bce_with_logits]",
    "test_transforms::test_transform_matches_portable_kernels[conv_depthwise]",
    "test_transforms::test_transform_matches_portable_kernels[conv_gemm]",
    "test_transforms::test_transform_matches_portable_kernels[conv1d]",
    "test_transforms::test_transform_matches_portable_kernels[conv_taps_reduce]",
    "test_transforms::test_transform_matches_portable_kernels[layernorm]",
    "test_transforms::test_transform_matches_portable_kernels[linear]",
    "test_transforms::test_transform_matches_portable_kernels[lenet_block]",
    "test_transforms::test_transform_matches_portable_kernels[maxpool_overlap]",
    "test_transforms::test_transform_matches_portable_kernels[mse_loss]",
    "test_transforms::test_transform_matches_portable_kernels[nll_loss]",
    "test_transforms::test_transform_matches_portable_kernels[smooth_l1_loss]",
    "test_shim_api::test_gan_style_graph_survives_another_optimizer_step",
    "test_transforms::test_transform_matches_portable_kernels[batchnorm2d_train-jacfwd]",
    "test_shim_serialization::test_model_and_optimizer_state_dicts_round_trip_bitwise",
    "test_shim_manual::test_op_by_op_fallback_matches_pytorch[data.add_]",
    "test_shim_distributions::test_multivariate_normal_as_pytorch[scale_tril]",
    "test_shim_surface_more::test_prelu_parameter_trains_like_pytorch",
    "test_shim_vision_loops::test_max_pool_indices_and_unpool_match_pytorch[k3-s2-pad]",
    "test_shim_parity::test_h_accumulation_and_clipping",
    "test_shim_user_programs::test_pad_pack_and_unpack_sequences_match_pytorch[False]",
    "test_shim_lbfgs::test_fits_as_pytorchs_lbfgs[options0]",
    "test_checkpoint::test_keep_deletes_the_oldest",
    "test_transforms::test_transform_matches_portable_kernels[maxpool_tiled-jacfwd]",
    "test_shim_manual::test_manual_update_loop_compiles_once_and_matches_pytorch[data",
    "test_shim_distributions::test_concentration_distributions_as_pytorch[Beta]",
    "test_shim_vision_loops::test_averaged_model_follows_pytorch[ema-avg_fn-buffers]",
    "test_shim_profiler::test_traces_are_handed_over_at_pytorchs_steps_with_the_windows_regions[kwargs1-5]",
    "test_shim_api::test_a_split_whose_forward_reads_past_backward_runs_it_at_the_step",
    "test_checkpoint::test_restore_names_what_does_not_match",
    "test_shim_tensor_hooks::test_module_backward_hooks_see_pytorchs_gradients",
    "test_functional::test_batch_norm_gradients_keep_each_argument_dtype[platform]",
    "test_transforms::test_transform_matches_portable_kernels[cross_entropy-jacfwd]",
    "test_fast_conv::test_max_pool_nan_window_is_nan_and_takes_gradient",
    "test_fast_conv::test_gradients_through_conv_activation_and_pool_equal_the_portable_forms[3-3-True-tanh-pool]",
    "test_functional::test_batch_norm_training_matches_torch[platform-True-shape1]",
    "test_shim_tensor_hooks::test_grad_cam_hooks_as_pytorch",
    "test_shim_jit::test_a_scripted_and_a_traced_model_train_save_and_load_as_pytorchs",
    "test_accelerator_script::test_unknown_workload_is_refused",
    "test_fuzz_readers::test_idx_plain_fuzz",
    "test_step_cache::test_a_second_fit_and_evaluate_compile_nothing",
    "test_functional::test_op_jit_equals_eager[platform-conv2d-(2,",
    "test_shim_vision_loops::test_orthogonal_parametrization_trains_as_pytorch[householder]",
    "test_shim_api::test_a_split_on_host_batches_copies_them_once_and_agrees",
    "test_interop::test_same_outputs_as_torch_after_loading",
)


#: Tests of the edit-test loop left out of it for their time alone, one ``module::test[id]``
#: a line, exactly as pytest names the item: ``tests/select_slow.py`` writes the file from a
#: measured run of the loop (its longest tests, until the rest fits in its time).
SLOW_BY_TIME = pathlib.Path(__file__).with_name("slow_by_time.txt")


def _slow_by_time() -> list[str]:
    if not SLOW_BY_TIME.exists():
        return []
    return [line.strip() for line in SLOW_BY_TIME.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


#: Tests that compile with XLA's optimisations on, as users' programs do (they and the
#: processes they start); the rest of the suite compiles with
#: JAX_DISABLE_MOST_OPTIMIZATIONS, its programs being small and run a few times. Here are
#: the tests whose time is running long programs (training LeNet-5 to an accuracy, three
#: ResNet-18 runs), and an optimisation whose result decides between nearby minima
#: (L-BFGS on an image, where XLA's unoptimised rounding lands 1% away from PyTorch's).
#: Named as in :data:`SLOW`.
OPTIMIZED: tuple[str, ...] = (
    "test_real_mnist",
    "test_resnet::test_twenty_sgd_steps_from_torch_weights_agree_in_all_three_versions",
    "test_shim_lbfgs::test_optimizes_an_input_image_as_style_transfer_does",
)


#: Parametrised families whose every case compiles programs of its own: the edit-test loop
#: runs the given number of their cases, spread evenly over the family (its first and last
#: case among them), and marks the rest slow; the full suite runs every case. A family
#: named here that its module lacks is an error, as in :data:`SLOW`.
SAMPLED: dict[str, int] = {
    "test_shim_inplace_autograd::test_norm_buffer_versions_after_forwards_match_torch": 2,
    "test_shim_loops::test_maml_through_functional_parameters_as_torch": 1,
    "test_shim_inplace_autograd::test_a_recurrent_layers_sequence_changed_raises_as_torch": 8,
    "test_shim_devices::test_module_dtype_gives_pytorchs_state_dict_dtypes": 10,
    "test_shim_inplace_autograd::test_what_binary_ops_save_matches_torch": 12,
    "test_shim_inplace_autograd::test_what_unary_ops_save_matches_torch": 12,
    "test_shim_inplace_autograd::test_a_saved_value_changed_in_place_raises_as_torch": 8,
    "test_shim_inplace_autograd::test_inplace_programs_match_torch": 3,
    "test_shim_transformer::test_multihead_attention_as_pytorch": 4,
    "test_shim_user_programs::test_in_place_op_on_a_view_changes_its_base_as_pytorch": 6,
    "test_shim_vision_loops::test_averaged_model_follows_pytorch": 2,
    "test_shim_vision_loops::test_weight_norm_parametrization_trains_as_pytorch": 1,
    "test_augment::test_rotation_by_right_angles_is_rot90": 1,
    "test_augment::test_same_key_same_batch_different_key_different_batch": 1,
    "test_fast_conv::test_gradients_through_conv_activation_and_pool_equal_the_portable_forms": 3,
    "test_functional::test_dropout_mask_is_jaxs_bernoulli_of_the_inputs_shape": 2,
    "test_functional::test_op_jit_equals_eager": 2,
    "test_functional::test_op_matches_torch_output_and_gradients": 10,
    "test_init::test_flat_draws_are_the_draws_of_the_weights_shape": 2,
    "test_losses::test_binary_cross_entropy": 6,
    "test_losses::test_cross_entropy_class_indices": 6,
    "test_losses::test_cross_entropy_probabilities": 6,
    "test_losses::test_mse_and_l1": 8,
    "test_losses::test_smooth_l1_loss": 6,
    "test_nn::test_layer_jit_equals_eager": 1,
    "test_nn::test_layer_matches_torch": 12,
    "test_optim::test_injected_lr_changes_between_steps_without_recompiling": 3,
    "test_optim::test_trajectory_matches_torch": 9,
    "test_shim_batch_patterns::test_index_assignment_matches_torch_values_and_gradients": 3,
    "test_shim_batch_patterns::test_indexing_matches_torch_values_and_gradients": 8,
    "test_shim_ops::test_op_matches_torch_values_and_gradients": 9,
    "test_shim_sequences_tables::test_embedding_bag_matches_pytorch": 3,
    "test_shim_sequences_tables::test_linalg_matches_pytorch": 8,
    "test_shim_sequences_tables::test_search_ops_match_pytorch": 10,
    "test_shim_vision_loops::test_affine_grid_and_grid_sample_match_pytorch": 2,
    "test_shim_vision_loops::test_conv2d_padding_modes_match_pytorch": 2,
    "test_shim_vision_loops::test_max_pool_indices_and_unpool_match_pytorch": 2,
    "test_shim_vision_loops::test_scheduler_rates_and_momentum_follow_pytorch": 3,
    "test_shim_surface_more::test_functional_matches_pytorch": 4,
    "test_shim_surface_more::test_in_place_matches_pytorch": 4,
    "test_shim_surface_more::test_loss_modules_match_pytorch": 3,
    "test_shim_surface_more::test_losses_match_pytorch": 3,
    "test_shim_surface_more::test_matches_pytorch": 12,
    "test_shim_surface_more::test_modules_match_pytorch": 5,
    "test_shim_surface_more::test_norm_and_attention_match_pytorch": 4,
    "test_shim_surface_more::test_added_names_match_pytorch": 60,
    "test_torch_fft::test_transform_values_dtypes_and_gradients_match_pytorch": 8,
    "test_torch_fft::test_stft_and_istft_match_pytorch": 5,
    "test_shim_batch_patterns::test_index_assignment_of_another_dtype_casts_or_raises_as_torch":
        10,
    "test_shim_inplace_autograd::"
    "test_a_parameter_changed_between_forward_and_backward_raises_as_torch": 12,
    "test_shim_value_errors::test_a_refused_value_raises_pytorchs_error": 30,
}


def _sample(items: list, keep: int) -> list:
    """The items of one family outside the edit-test loop: all but ``keep`` evenly spread."""
    if len(items) <= keep:
        return []
    kept = {round(i * (len(items) - 1) / (keep - 1)) for i in range(keep)} if keep > 1 else {0}
    return [item for i, item in enumerate(items) if i not in kept]


def _named(entry: str, listing: str, items: list, modules: dict) -> list:
    """The items an entry of :data:`SLOW` or :data:`OPTIMIZED` names: a module, a
    ``module::test`` (every parametrisation) or a ``module::test[id]``."""
    module, _, test = entry.partition("::")
    if module not in modules:
        return []
    if test and not hasattr(modules[module], test.partition("[")[0]):
        raise pytest.UsageError(f"tests/conftest.py {listing} names {entry!r}: no such test")
    chosen = []
    for item in items:
        if item.path.stem != module:
            continue
        if "[" in test:  # this parametrisation, whatever other parameters it is crossed with
            if item.name == test or item.name.startswith(test[:-1] + "-"):
                chosen.append(item)
        elif not test or getattr(item, "originalname", item.name) == test:
            chosen.append(item)
    return chosen


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the option
def pytest_cmdline_main(config):
    """With ``-n`` and no ``--dist``, each worker takes whole files in collection order."""
    if getattr(config.option, "numprocesses", None) and config.option.dist == "no":
        config.option.dist = "loadfile"
        config.option.loadscopereorder = False


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by the marks added here
def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))
    modules = {item.path.stem: getattr(item, "module", None) for item in items}
    for listing, marker in (("SLOW", pytest.mark.slow), ("OPTIMIZED", pytest.mark.optimized)):
        for entry in globals()[listing]:
            for item in _named(entry, listing, items, modules):
                item.add_marker(marker)
    for entry, keep in SAMPLED.items():
        module, _, test = entry.partition("::")
        if module not in modules:
            continue
        if not hasattr(modules[module], test):
            raise pytest.UsageError(f"tests/conftest.py SAMPLED names {entry!r}: no such test")
        # Cases already outside the loop (the portable kernels' run) are not counted.
        family = [item for item in items if item.path.stem == module
                  and getattr(item, "originalname", item.name) == test
                  and item.get_closest_marker("slow") is None]
        for item in _sample(family, keep):
            item.add_marker(pytest.mark.slow)
    # after the sampling: the listing was measured on the cases the sampling keeps
    by_name = {f"{item.path.stem}::{item.name}": item for item in items}
    for entry in _slow_by_time():
        module, _, test = entry.partition("::")
        if module not in modules:
            continue
        if not hasattr(modules[module], test.partition("[")[0]):
            raise pytest.UsageError(f"tests/slow_by_time.txt names {entry!r}: no such test")
        if entry in by_name:
            by_name[entry].add_marker(pytest.mark.slow)
